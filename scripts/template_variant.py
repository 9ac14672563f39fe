"""Write the SAM template with other parameter defaults, so linters and scanners (which read
defaults) check the stack as it is deployed with those options too.

    python scripts/template_variant.py template.yaml OUT.yaml KmsKeyArn=arn:... Other=value
"""

from __future__ import annotations

import re
import sys
from pathlib import Path


def with_defaults(template: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        pattern = re.compile(rf"(\n  {name}:\n(?:    (?!Default:)[^\n]*\n)*    Default: )[^\n]*")
        quoted = f'"{value}"'
        template, count = pattern.subn(lambda m, q=quoted: m.group(1) + q, template, count=1)
        if count != 1:
            raise SystemExit(f"no parameter {name} with a Default in the template")
    return template


def main(argv: list[str]) -> None:
    source, target, *pairs = argv
    values = dict(pair.split("=", 1) for pair in pairs)
    Path(target).write_text(with_defaults(Path(source).read_text(), values))


if __name__ == "__main__":
    main(sys.argv[1:])
