"""Old name of `python -m demos.beta_vae` (`make demo-beta-vae`): warns, then runs it."""

from zoo.moved import run_moved

if __name__ == "__main__":
    run_moved("zoo.demo_beta_vae", "demos.beta_vae")
