import contextlib
import io
import unittest

from absl import flags

from zoo import flags_util


def _define(flag_values):
    flags.DEFINE_string("model", None, "A model.", flag_values=flag_values, required=True)
    flags.DEFINE_float("lmbda", None, "A weight.", flag_values=flag_values)
    flags.DEFINE_integer("refine-steps", 0, "Steps.", flag_values=flag_values)


COMMANDS = {
    "compress": flags_util.Command("in -> out", _define, ("input", "output")),
    "list": flags_util.Command("list things", _define),
}


class ParseCommandLineTest(unittest.TestCase):
    def parse(self, argv):
        return flags_util.parse_subcommand("tool", "A tool.", COMMANDS, argv)

    def exit_status(self, argv):
        with contextlib.redirect_stderr(io.StringIO()) as error:
            with contextlib.redirect_stdout(io.StringIO()):
                with self.assertRaises(SystemExit) as raised:
                    self.parse(argv)
        return raised.exception.code, error.getvalue()

    def test_flags_and_positional_arguments_may_come_in_any_order(self):
        command, values, positional = self.parse(
            ["compress", "a.png", "--model", "m", "--lmbda=0.5", "b.yoto", "--refine-steps=3"]
        )
        self.assertEqual(command, "compress")
        self.assertEqual((values.model, values.lmbda, values["refine-steps"].value), ("m", 0.5, 3))
        self.assertEqual(positional, {"input": "a.png", "output": "b.yoto"})

    def test_values_never_carry_over_from_one_call_to_the_next(self):
        self.parse(["list", "--model=m", "--lmbda=0.5"])
        _, values, positional = self.parse(["list", "--model=n"])
        self.assertIsNone(values.lmbda)
        self.assertEqual(positional, {})

    def test_a_bad_command_line_exits_with_status_2_naming_the_problem(self):
        cases = {
            "no command": ([], "a command is required"),
            "unknown command": (["zip"], "unknown command 'zip'"),
            "missing flag": (["list"], "--model"),
            "unknown flag": (["list", "--model=m", "--colour=red"], "colour"),
            "bad value": (["list", "--model=m", "--lmbda=big"], "lmbda"),
            "missing file": (["compress", "--model=m", "a.png"], "(input output), got 1"),
        }
        for name, (argv, message) in cases.items():
            with self.subTest(name):
                status, error = self.exit_status(argv)
                self.assertEqual(status, 2)
                self.assertIn(message, error)

    def test_help_exits_with_status_0(self):
        for argv in (["--help"], ["compress", "--help"]):
            with self.subTest(argv=argv):
                self.assertEqual(self.exit_status(argv)[0], 0)


if __name__ == "__main__":
    unittest.main()
