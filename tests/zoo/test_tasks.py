import unittest

import zoo


class TaskRegistryTest(unittest.TestCase):
    def test_every_task_with_releases_names_its_release_checks(self):
        for name in ("beta_vae", "compression", "style_transfer"):
            with self.subTest(name):
                self.assertEqual(zoo.find_task(name).release_checks, f"zoo.{name}.release_checks")

    def test_a_task_without_release_checks_refuses_them_by_name(self):
        with self.assertRaisesRegex(ValueError, "Task 'lifelong' has no release checks"):
            zoo.find_task("lifelong").run_release_checks("spec", "out", "cmd", {})

    def test_an_unknown_task_is_refused_with_the_known_ones(self):
        with self.assertRaisesRegex(ValueError, r"Unknown task 'nope'; known tasks: \['beta_vae'"):
            zoo.find_task("nope")


if __name__ == "__main__":
    unittest.main()
