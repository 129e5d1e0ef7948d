"""SQLAlchemy 2 ORM over mysql+pymysql: a flushed object rolled back must be gone.

Usage: rollback_sqlalchemy.py PORT USER DATABASE
"""
import sys

from sqlalchemy import Integer, String, create_engine, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

port, user, db = int(sys.argv[1]), sys.argv[2], sys.argv[3]


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(40))


engine = create_engine(f"mysql+pymysql://{user.replace('@', '%40')}:@127.0.0.1:{port}/{db}")
with Session(engine) as session:
    session.add_all([Account(id=10, owner="dan"), Account(id=11, owner="eve")])
    session.flush()
    assert session.scalar(select(func.count()).select_from(Account)) == 2
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Account)) == 0
with Session(engine) as session:
    session.add(Account(id=12, owner="fay"))
    session.commit()
engine.dispose()
print("ok")
