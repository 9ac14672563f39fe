"""Train a churn classifier in the sandbox on per-user features (input q1), evaluate it on a
held-out split against a majority-class baseline, and save the model and a report to out/.

    databot python examples/sandbox/churn_model.py --input q1=examples/sandbox/churn_features.sql
"""

import joblib
import pandas as pd
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split

df = load("q1")
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

joblib.dump(model, OUT / "churn_model.joblib")
report = "\n".join(
    [
        "# Churn model",
        f"Random forest on {len(X_train)} users, evaluated on {len(X_test)} held-out users.",
        f"ROC AUC {auc:.3f} (baseline {baseline_auc:.3f}); "
        f"accuracy {accuracy:.3f} (baseline {baseline_accuracy:.3f}).",
        "Top features: " + ", ".join(f"{name} ({weight:.2f})" for name, weight in top),
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
    "train_rows": len(X_train),
    "test_rows": len(X_test),
}
