"""SQLAlchemy 2's ORM, unmodified, on postgresql+psycopg and on mysql+pymysql: create_all with a relationship and a foreign key,
reflection of tables and columns, add / flush / rollback / commit, a multi-row insert (SQLAlchemy's
"insertmanyvalues": INSERT ... SELECT FROM (VALUES ...) AS t(cols) ... RETURNING), joins, relationship
loading, DateTime and Numeric round trips, and the foreign key refused (23503 / 1452). DB_URL names the
test server."""
import datetime
import decimal
import os

from sqlalchemy import (
    DateTime,
    ForeignKey,
    MetaData,
    Numeric,
    String,
    Table,
    create_engine,
    func,
    inspect,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    orders: Mapped[list["Order"]] = relationship(back_populates="customer")


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    total: Mapped[decimal.Decimal] = mapped_column(Numeric(10, 2))
    placed: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), index=True)
    customer: Mapped[Customer] = relationship(back_populates="orders")


engine = create_engine(os.environ["DB_URL"])
postgres = engine.dialect.name == "postgresql"
Base.metadata.create_all(engine)

insp = inspect(engine)
assert sorted(insp.get_table_names()) == ["customers", "orders"], insp.get_table_names()
columns = {c["name"]: c for c in insp.get_columns("orders")}
assert list(columns) == ["id", "customer_id", "total", "placed"], list(columns)
assert str(columns["total"]["type"]) == "NUMERIC(10, 2)", columns["total"]
# MySQL's DATETIME has no time zone; PostgreSQL's column is timestamptz.
assert columns["placed"]["type"].timezone == postgres, columns["placed"]
# The inspector's keys and indexes (PostgreSQL: pg_constraint / pg_index queries with unnest and array_agg).
pk = insp.get_pk_constraint("orders")
assert pk["constrained_columns"] == ["id"], pk
fks = [
    (f["constrained_columns"], f["referred_table"], f["referred_columns"])
    for f in insp.get_foreign_keys("orders")
]
assert fks == [(["customer_id"], "customers", ["id"])], fks
indexes = {i["name"]: i for i in insp.get_indexes("orders")}
assert indexes["ix_orders_placed"]["column_names"] == ["placed"], indexes
assert not indexes["ix_orders_placed"]["unique"], indexes
unique = insp.get_unique_constraints("customers") + [
    i for i in insp.get_indexes("customers") if i["unique"]
]
assert any(u["column_names"] == ["name"] for u in unique), unique
# A whole table reflected, as an application mapping existing tables does.
reflected = Table("orders", MetaData(), autoload_with=engine)
assert [c.name for c in reflected.primary_key.columns] == ["id"], reflected.primary_key
assert [fk.target_fullname for fk in reflected.foreign_keys] == ["customers.id"]
assert {i.name for i in reflected.indexes} >= {"ix_orders_placed"}, reflected.indexes

placed = datetime.datetime(2024, 1, 2, 3, 4, 5, 120000, tzinfo=datetime.timezone.utc)
with Session(engine) as s:
    ann = Customer(name="ann")
    ann.orders.append(Order(total=decimal.Decimal("12.34"), placed=placed))
    s.add(ann)
    s.flush()
    assert ann.id is not None and ann.orders[0].id is not None
    s.rollback()
    assert s.scalar(select(func.count()).select_from(Customer)) == 0, "rollback kept the rows"
    assert s.scalar(select(func.count()).select_from(Order)) == 0

    bob = Customer(
        name="bob",
        orders=[
            Order(total=decimal.Decimal("99.99"), placed=placed),
            Order(total=decimal.Decimal("0.01"), placed=placed),
        ],
    )
    s.add(bob)
    s.commit()

with Session(engine) as s:
    rows = s.execute(
        select(Customer.name, Order.total, Order.placed).join(Order.customer).order_by(Order.total)
    ).all()
    assert [(n, t) for n, t, _ in rows] == [
        ("bob", decimal.Decimal("0.01")),
        ("bob", decimal.Decimal("99.99")),
    ], rows
    # MySQL's DATETIME gives back the naive UTC time it was given.
    assert all(p == (placed if postgres else placed.replace(tzinfo=None)) for _, _, p in rows), rows
    bob = s.scalars(select(Customer).where(Customer.name == "bob")).one()
    assert sorted(o.total for o in bob.orders) == [decimal.Decimal("0.01"), decimal.Decimal("99.99")]
    s.add(Order(customer_id=999, total=decimal.Decimal("1"), placed=placed))
    try:
        s.commit()
        raise AssertionError("an order for a missing customer was stored")
    except IntegrityError as e:
        code = e.orig.sqlstate if postgres else e.orig.args[0]
        assert code == ("23503" if postgres else 1452), code
        s.rollback()
    assert s.scalar(select(func.count()).select_from(Order)) == 2

Base.metadata.drop_all(engine)
assert inspect(engine).get_table_names() == []
print("sqlalchemy orm ok")
