from django.core.management.base import BaseCommand


class Command(BaseCommand):
    """A management command whose bad input, including bad arguments, is one line on stderr and
    exit status 2 (Django raises CommandError(returncode=2); argparse is made to say one line)."""

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        if parser.called_from_command_line:

            def one_line_error(message):
                parser.exit(2, f"{parser.prog}: error: {message}\n")

            parser.error = one_line_error
        return parser
