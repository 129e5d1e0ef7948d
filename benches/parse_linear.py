import pymysql, time, sys
port=int(sys.argv[1])
c=pymysql.connect(host='127.0.0.1',port=port,user='root@sys',password='',database='test',autocommit=True)
cur=c.cursor()
for n in [100,400,1600,16000]:
    cur.execute("DROP TABLE IF EXISTS b%d"%n)
    cur.execute("CREATE TABLE b%d (id INT PRIMARY KEY, k INT, c VARCHAR(120), pad VARCHAR(60))"%n)
    best=None
    for rep in range(3):
        cur.execute("DELETE FROM b%d"%n)
        sql="INSERT INTO b%d VALUES "%n + ",".join("(%d,%d,'%s','%s')"%(i,i*7,'c'*100,'p'*50) for i in range(n))
        t=time.perf_counter(); cur.execute(sql); dt=time.perf_counter()-t
        best=dt if best is None else min(best,dt)
    print("rows=%d total_ms=%.1f us_per_row=%.1f"%(n,best*1000,best*1e6/n))
    sql="SELECT count(*) FROM b%d WHERE id IN ("%n + ",".join(str(i) for i in range(n*6)) + ")"
    t=time.perf_counter(); cur.execute(sql); r=cur.fetchall(); dt=time.perf_counter()-t
    print("  IN list of %d values: %.1f ms (%.2f us/value)"%(n*6,dt*1000,dt*1e6/(n*6)))
