"""scikit-learn reference for the CDNOW clustering test: same features and transform as the Rust
test (recency to the day after the last transaction, distinct purchase dates, total spend;
log1p then population standardization), KMeans(k, n_init=3, lloyd, tol=1e-4)."""
import sys
import numpy as np
import pandas as pd
from sklearn.cluster import KMeans

df = pd.read_csv(sys.argv[1], sep=r"\s+", dtype={"customer_id": str})
df["date"] = pd.to_datetime(df["date"].astype(str), format="%Y%m%d")
end = df["date"].max() + pd.Timedelta(days=1)
g = df.groupby("customer_id")
feat = pd.DataFrame({
    "recency_days": (end - g["date"].max()).dt.days,
    "frequency": g["date"].nunique(),
    "monetary_total": g["dollar_value"].sum(),
})
print(len(feat), "customers; frequency==1:", int((feat.frequency == 1).sum()))
x = np.log1p(feat.to_numpy(dtype=float))
x = (x - x.mean(0)) / x.std(0)
k = int(sys.argv[2]) if len(sys.argv) > 2 else 4
for seed in range(int(sys.argv[3]) if len(sys.argv) > 3 else 5):
    km = KMeans(n_clusters=k, n_init=3, algorithm="lloyd", tol=1e-4, random_state=seed).fit(x)
    print(f"k={k} seed={seed} inertia {km.inertia_:.4f} n_iter {km.n_iter_}")
