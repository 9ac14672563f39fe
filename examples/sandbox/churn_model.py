"""Train a churn classifier in the sandbox on per-user features (input q1), evaluate it on a
held-out split against a majority-class baseline, check for label leakage, and save the
model and a report to out/.

    databot python examples/sandbox/churn_model.py --input q1=examples/sandbox/churn_features.sql

The features are known on a cutoff date and the label is churn after it (see the SQL), so
the model predicts the future rather than describing it. The leakage check scores each
feature alone: one that nearly separates the classes by itself is a sign that it encodes
the label, and the report says so.
"""

import joblib
import pandas as pd
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split

LEAK_AUC = 0.95  # a single feature this predictive is suspect

# Sorted, so the split does not depend on the order the warehouse returned rows in.
df = load("q1").sort_values("user_id", kind="stable").reset_index(drop=True)
y = df.pop("churned")
X = pd.get_dummies(
    df.drop(columns=["user_id"]), columns=["plan", "device", "acquisition_channel"], dtype=float
).fillna(0)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=42, stratify=y
)

model = RandomForestClassifier(n_estimators=150, max_depth=8, random_state=42, n_jobs=1)
model.fit(X_train, y_train)
baseline = DummyClassifier(strategy="most_frequent").fit(X_train, y_train)

auc = roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])
baseline_auc = roc_auc_score(y_test, baseline.predict_proba(X_test)[:, 1])
accuracy = accuracy_score(y_test, model.predict(X_test))
baseline_accuracy = accuracy_score(y_test, baseline.predict(X_test))
top = sorted(zip(X.columns, model.feature_importances_, strict=True), key=lambda p: -p[1])[:5]

# Leakage check: each feature's own AUC on the training rows (either direction).
single = {
    name: max(score, 1 - score)
    for name in X.columns
    if X_train[name].nunique() > 1
    for score in [roc_auc_score(y_train, X_train[name])]
}
strongest = max(single, key=single.get)
suspects = sorted(name for name, score in single.items() if score >= LEAK_AUC)

joblib.dump(model, OUT / "churn_model.joblib")
report = "\n".join(
    [
        "# Churn model",
        f"Random forest on {len(X_train):,} users, evaluated on {len(X_test):,} held-out users; "
        f"{y.mean():.1%} churned in the 90 days after the cutoff.",
        f"ROC AUC {auc:.3f} (majority-class baseline {baseline_auc:.3f}); "
        f"accuracy {accuracy:.3f} (baseline {baseline_accuracy:.3f}).",
        "Top features: " + ", ".join(f"{name} ({weight:.2f})" for name, weight in top),
        f"Leakage check: features are known on the cutoff date and the label comes after it; "
        f"the strongest single feature, {strongest}, has AUC {single[strongest]:.3f} alone; "
        + (f"suspect (≥ {LEAK_AUC}): {', '.join(suspects)}." if suspects
           else f"none reaches {LEAK_AUC}."),
    ]
)
(OUT / "report.md").write_text(report + "\n")
print(report)
result = {
    "roc_auc": round(auc, 4),
    "baseline_roc_auc": round(baseline_auc, 4),
    "accuracy": round(accuracy, 4),
    "baseline_accuracy": round(baseline_accuracy, 4),
    "top_features": [name for name, _ in top],
    "leakage_suspects": suspects,
    "strongest_single_feature_auc": round(single[strongest], 4),
    "train_rows": len(X_train),
    "test_rows": len(X_test),
}
