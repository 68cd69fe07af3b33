import json
import pathlib
import re
import subprocess
import tempfile
import unittest

from zoo import releases
from zoo.training import provenance


def _git_head():
    root = pathlib.Path(provenance.__file__).resolve().parents[2]
    result = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True
    )
    return result.stdout.strip() if result.returncode == 0 else None


class ProvenanceTest(unittest.TestCase):
    def setUp(self):
        self.model_dir = pathlib.Path(tempfile.mkdtemp())

    def test_the_code_commit_is_the_checkouts_head_or_none_outside_git(self):
        head = _git_head()
        commit = provenance.code_commit()
        if head is None:
            self.assertIsNone(commit)
        else:
            self.assertRegex(commit, "^" + re.escape(head) + "(-dirty)?$")

    def test_changed_code_makes_the_commit_dirty_and_changed_release_weights_do_not(self):
        checkout = pathlib.Path(tempfile.mkdtemp())
        weights = checkout / "releases/work/compression/weights.npz"
        card = checkout / "zoo/releases/codec/card.json"
        code = checkout / "zoo/releases/__init__.py"
        for path in (weights, card, code):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("first\n")
        git = ["git", "-C", str(checkout), "-c", "user.name=t", "-c", "user.email=t@t"]
        subprocess.run([*git, "init", "-q"], check=True)
        subprocess.run([*git, "add", "."], check=True)
        subprocess.run([*git, "commit", "-qm", "first"], check=True)
        head = subprocess.run(
            [*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        weights.write_text("trained further\n")
        card.write_text("published\n")
        self.assertEqual(provenance.code_commit(checkout), head)
        code.write_text("edited\n")
        self.assertEqual(provenance.code_commit(checkout), head + "-dirty")

    def test_each_start_of_training_appends_a_stretch_and_a_repeat_is_not_recorded(self):
        provenance.record(self.model_dir, 0)
        provenance.record(self.model_dir, 0)
        provenance.record(self.model_dir, 500)
        steps = [stretch["step"] for stretch in provenance.segments(self.model_dir)]
        self.assertEqual(steps, [0, 500])
        stored = json.loads((self.model_dir / provenance.PROVENANCE_FILE).read_text())
        self.assertEqual(stored[1]["commit"], provenance.code_commit())

    def test_a_continued_run_starts_with_its_snapshots_stretches(self):
        earlier = [{"step": 0, "commit": "a" * 40}]
        provenance.carry_over(self.model_dir, earlier)
        provenance.record(self.model_dir, 19400)
        self.assertEqual(provenance.segments(self.model_dir)[0], earlier[0])
        self.assertEqual(provenance.segments(self.model_dir)[1]["step"], 19400)

    def test_an_unreadable_record_is_refused_naming_the_file(self):
        (self.model_dir / provenance.PROVENANCE_FILE).write_text("{not json")
        with self.assertRaisesRegex(ValueError, "provenance.json is not valid JSON"):
            provenance.segments(self.model_dir)


class ModelCardTest(unittest.TestCase):
    def _card(self, **fields):
        card = {
            "name": "codec",
            "task": "compression",
            "step": 600,
            "seed": 0,
            "data": "photos",
            "weights_sha256": "0" * 64,
            "commit": "c" * 40,
            "results": [],
            "config": {},
        }
        return releases.render_card({**card, **fields})

    def test_the_card_names_every_commit_that_trained_the_weights_oldest_first(self):
        text = self._card(
            trained_at=[{"step": 0, "commit": "b" * 40}],
            initialised_from={
                "step": 14000,
                "command": "yoto-train",
                "trained_at": [{"step": 0, "commit": "a" * 40}, {"step": 9000, "commit": None}],
            },
            total_steps=14600,
        )
        self.assertIn(
            "- Trained at: `aaaaaaaaaaaa` from step 0, `outside git` from step 9000; "
            "fine-tuned: `bbbbbbbbbbbb` from step 0",
            text,
        )
        self.assertIn("- Published at commit: " + "c" * 40, text)

    def test_the_card_says_which_steps_were_not_recorded_and_keeps_a_dirty_mark(self):
        text = self._card(
            trained_at=[{"step": 0, "commit": "b" * 40 + "-dirty"}],
            initialised_from={"step": 23000, "trained_at": [{"step": 19400, "commit": "a" * 40}]},
        )
        self.assertIn(
            "- Trained at: not recorded before step 19400, `aaaaaaaaaaaa` from step 19400; "
            "fine-tuned: `bbbbbbbbbbbb-dirty` from step 0",
            text,
        )

    def test_a_card_of_a_run_without_records_says_so(self):
        self.assertIn("- Trained at: not recorded", self._card())


if __name__ == "__main__":
    unittest.main()
