"""Ships the sample data in input/ inside the package, as `executor.sample_data`, so that
`pip install .` finds it as an editable install or a checkout does; pyproject.toml holds
everything else. (setuptools maps a directory onto a package name only here.) The
evaluation's question set, input/eval/, comes along as `executor.sample_data.eval`."""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["bot*", "handlers*", "executor*"]),
        "executor.sample_data",
        "executor.sample_data.eval",
    ],
    package_dir={"executor.sample_data": "input", "executor.sample_data.eval": "input/eval"},
    package_data={
        "executor.sample_data": ["*.csv", "*.yaml", "*.md", "*.sql"],
        "executor.sample_data.eval": ["*.yaml"],
    },
)
