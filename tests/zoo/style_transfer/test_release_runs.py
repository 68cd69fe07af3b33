"""The background style runs of experiments/release_runs.sh train what the config says."""

import json
import pathlib
import shlex
import subprocess

from absl.testing import absltest

from zoo import flags_util
from zoo.style_transfer import config as style_config

REPOSITORY = pathlib.Path(__file__).resolve().parents[3]
SCRIPT = REPOSITORY / "experiments" / "release_runs.sh"


def run_flags(name: str) -> list[str]:
    """The training flags `release_runs.sh` gives the run `name` (its `task_flags`)."""
    shell = (
        f"source <(sed -n '/^task_flags()/,/^}}/p' {shlex.quote(str(SCRIPT))}); "
        f"WORK=releases/work; task_flags {shlex.quote(name)}"
    )
    output = subprocess.run(
        ["bash", "-c", shell], capture_output=True, text=True, check=True
    ).stdout
    # The script passes its flags word-split, unquoted: split them the same way.
    return output.split()


def config_overrides(flags: list[str]) -> dict:
    """The `--config=` overrides among `flags`, typed as yoto-train types them."""
    items = [flag.removeprefix("--config=") for flag in flags if flag.startswith("--config=")]
    return flags_util.parse_overrides(items, style_config.Config)


class ReleaseRunsTest(absltest.TestCase):
    def test_the_student_run_trains_the_release_networks_shape(self):
        overrides = config_overrides(run_flags("style_student"))
        for field, value in style_config.FAST_NETWORK.items():
            self.assertEqual(overrides.get(field), value, field)

    def test_the_student_distils_from_the_decayed_teacher_on_the_teachers_styles(self):
        student = config_overrides(run_flags("style_student"))
        teacher = config_overrides(run_flags("style_transfer"))
        self.assertEqual(student["teacher"], "releases/work/style_teacher")
        self.assertEqual(student["styles"], teacher["styles"])
        self.assertEqual(student["styles"], style_config.RELEASE_STYLES)
        self.assertIn("--task=style_transfer", run_flags("style_student"))

    def test_the_committed_teacher_is_the_teacher_runs_network_on_the_release_styles(self):
        snapshot = json.loads(
            (REPOSITORY / "releases/work/style_teacher/snapshot.json").read_text()
        )
        teacher_run = config_overrides(run_flags("style_transfer"))
        self.assertEqual(snapshot["task"], "style_transfer")
        self.assertEqual(tuple(snapshot["config"]["styles"]), style_config.RELEASE_STYLES)
        for field, value in teacher_run.items():
            if field != "styles":
                self.assertEqual(snapshot["config"][field], value, field)

    def test_an_unknown_run_is_refused_by_name(self):
        with self.assertRaises(subprocess.CalledProcessError) as raised:
            run_flags("style_teacher")
        self.assertIn("unknown run style_teacher", raised.exception.stderr)


if __name__ == "__main__":
    absltest.main()
