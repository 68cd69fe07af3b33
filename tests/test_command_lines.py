"""The `python -m` tools parse their flags on a fresh FlagValues each, so they share a process.

Seven of them once defined their flags on absl's global `FLAGS` at import, so importing two
into one process failed on a flag both define (`--model_dir`). Their training and
evaluation run in the binaries' own tests; here only their command lines are parsed.
"""

import contextlib
import io
import unittest

from export import export_saved_model
from zoo import flags_util
from zoo.compression import codec_eval
from zoo.evaluation import evaluate
from zoo.lifelong import lifelong_train
from zoo.style_transfer import style_eval
from zoo.training import snapshot, train

# Each tool, the least command line it takes, and values that it then holds.
MINIMAL = {
    snapshot: (["--model_dir=runs/a", "--output=out"], {"float16": True, "command": None}),
    train: (["--model_dir=runs/a"], {"task": "beta_vae", "config": [], "strategy": "default"}),
    evaluate: (["--model_dirs=runs/a,runs/b"], {"model_dirs": ["runs/a", "runs/b"]}),
    codec_eval: (["--models=runs/a"], {"bd_method": "pchip", "estimated_bpp": True}),
    lifelong_train: (["--model_dir=runs/a"], {"num_tasks": None, "config": []}),
    style_eval: (["--model=m", "--output_dir=o"], {"content_grid": ["0.1", "0.3", "1", "3", "10"]}),
    export_saved_model: (["--model_dir=runs/a", "--base_dir=b"], {"version": None}),
}

# The tools whose run() refuses a command line without a required flag, and that flag.
REQUIRED = {
    snapshot: "--model_dir",
    train: "--model_dir",
    evaluate: "--model_dirs",
    lifelong_train: "--model_dir",
    style_eval: "--model",
    export_saved_model: "--model_dir",
}


def parse(module, argv):
    """`module`'s flags parsed from `argv`, as its `run` parses them."""
    flag_values, _ = flags_util.parse_command_line(module.__name__, "", module.COMMAND, argv)
    return flag_values


class CommandLinesTest(unittest.TestCase):
    def exit_status(self, function, *args):
        with contextlib.redirect_stderr(io.StringIO()) as error:
            with self.assertRaises(SystemExit) as raised:
                function(*args)
        return raised.exception.code, error.getvalue()

    def test_every_tool_parses_its_own_flags_in_one_process(self):
        for module, (argv, expected) in MINIMAL.items():
            with self.subTest(module.__name__):
                values = parse(module, argv)
                self.assertEqual({name: values[name].value for name in expected}, expected)

    def test_a_flag_repeated_or_listed_keeps_every_value(self):
        values = parse(train, ["--model_dir=a", "--config=fixed_beta=4", "--config=beta_low=0.5"])
        self.assertEqual(values.config, ["fixed_beta=4", "beta_low=0.5"])
        self.assertEqual(
            parse(style_eval, ["--model=m", "--output_dir=o", "--style_grid=1,3"]).style_grid,
            ["1", "3"],
        )

    def test_a_flag_of_one_tool_is_unknown_to_another(self):
        self.assertEqual(parse(train, ["--model_dir=a", "--task=compression"]).task, "compression")
        status, error = self.exit_status(parse, lifelong_train, ["--model_dir=a", "--task=x"])
        self.assertEqual(status, 2)
        self.assertIn("Unknown command line flag 'task'", error)

    def test_run_without_a_required_flag_exits_2_naming_it(self):
        for module, flag in REQUIRED.items():
            with self.subTest(module.__name__):
                status, error = self.exit_status(module.run, [])
                self.assertEqual(status, 2)
                self.assertRegex(error, f": error: flag {flag}=None")


if __name__ == "__main__":
    unittest.main()
