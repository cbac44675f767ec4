"""Running the command line in tests as a user runs it, with the apply journal in the test's folder."""

from click.testing import CliRunner, Result

from teamform.cli import cli


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"TEAMFORM_JOURNAL": "journal.jsonl"})
