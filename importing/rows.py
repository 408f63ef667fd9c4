"""A spreadsheet row on its way in: its cells, what they mean, and what is wrong with it."""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from core.models import Source

NEW, UPDATED, UNCHANGED = "new", "updated", "unchanged"


@dataclass
class Problem:
    row: int
    column: str
    value: str
    message: str

    def __str__(self):
        if not self.row:
            return self.message
        if not self.column:
            return _("row %(row)s: %(message)s") % {"row": self.row, "message": self.message}
        return _("row %(row)s: %(column)s: %(message)s") % {
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }


@dataclass(eq=False)
class Row:
    number: int
    cells: dict
    values: dict = field(default_factory=dict)
    existing: object = None
    instance: object = None
    action: str = ""
    key: object = None
    key_checked: bool = False
    current: dict = field(default_factory=dict)
    wanted: dict = field(default_factory=dict)
    changes: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    before: dict | None = None

    @property
    def target(self):
        """What a reference to this row means: the stored record's pk, or the row itself."""
        return self.existing.pk if self.existing is not None else self

    def error(self, column, value, message):
        self.problems.append(Problem(self.number, column, str(value), str(message)))

    def warn(self, message):
        if message not in self.warnings:
            self.warnings.append(str(message))


@dataclass(eq=False)
class NewSource:
    """A source a cell names that is not in the registry yet: created when the import is."""

    instance: Source

    def __str__(self):
        return self.instance.title
