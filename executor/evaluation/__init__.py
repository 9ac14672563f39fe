"""The evaluation harness: a golden question set run through the full engine and scored by
execution (docs/evaluation.md). `golden` reads the set, `scoring` compares result sets,
`harness` runs the questions, `report` writes what it measured."""
