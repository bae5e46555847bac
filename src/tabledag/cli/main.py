"""Entry point of the `tabledag` command (click; each command in a module of its own, imported
only when it runs, so `tabledag --help` and a first task start fast).

Exit codes a script can rely on: 0 ok; 1 a flow failed (or there was nothing to act on);
2 a usage, declaration or configuration error; 130 interrupted. A user error (any
`TabledagError`) prints one line, `tabledag: error: <message>` with secrets masked; `--debug`
prints the traceback.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from typing import Any

import click

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CONFIG_ERROR = 2
EXIT_INTERRUPTED = 130

COMMANDS = {
    "run": ("run_cmd:run", "Run a flow, or some of its stages or tasks, and watch it."),
    "sql": ("sql_cmd:sql", "Print a lazy task's SQL for any supported dialect."),
    "status": ("status_cmd:status", "Show an instance's committed stages, tables and last run."),
    "graph": ("graph_cmd:graph", "Draw a flow as SVG."),
    "report": ("report_cmd:report", "Write a run's HTML report."),
    "gc": ("upkeep_cmd:gc", "Drop tables and files no record names."),
    "delete-schemas": ("upkeep_cmd:delete_schemas", "Delete every schema of an instance."),
    "demo": ("demo_cmd:demo", "Run a demonstration pipeline on DuckDB, twice."),
}
"""name -> (module:attribute under tabledag.cli, one line for `tabledag --help`)."""


class LazyGroup(click.Group):
    """A group whose commands are imported when they are used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, _, attr = COMMANDS[cmd_name][0].partition(":")
        command: click.Command = getattr(importlib.import_module(f"tabledag.cli.{module}"), attr)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):  # without importing every command for its help
            formatter.write_dl([(name, text) for name, (_, text) in COMMANDS.items()])


def _version() -> str:
    from tabledag import __version__

    return __version__


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show the full traceback of an error.")
@click.option("--version", is_flag=True, help="Print the version and exit.")
@click.pass_context
def cli(ctx: click.Context, debug: bool, version: bool) -> None:
    """tabledag: data pipelines whose tasks produce tables."""
    ctx.obj = {"debug": debug}
    if version:
        click.echo(_version())
        ctx.exit(0)
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())
        ctx.exit(EXIT_ERROR)


cli.invoke_without_command = True


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns the exit code instead of raising for a user error."""
    from tabledag.errors import ConfigError, DeclarationError, TabledagError

    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    try:
        result: Any = cli.main(args=argv, prog_name="tabledag", standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.exceptions.Abort:
        print("tabledag: aborted", file=sys.stderr)
        return EXIT_ERROR
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except KeyboardInterrupt:
        print("tabledag: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except TabledagError as error:
        report_error(error, debug=debug)
        usage = isinstance(error, ConfigError | DeclarationError)
        return EXIT_CONFIG_ERROR if usage else EXIT_ERROR
    return result if isinstance(result, int) else EXIT_OK


def report_error(error: BaseException, *, debug: bool) -> None:
    """One line for the user, or the whole traceback with `--debug`."""
    from tabledag.util import mask_url

    if debug:
        traceback.print_exception(error, file=sys.stderr)
    else:
        print(f"tabledag: error: {mask_url(str(error))}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
