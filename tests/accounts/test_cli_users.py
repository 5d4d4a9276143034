"""``dailypapers users list|create|set-password|disable|promote|invite`` through the CLI runner, both backends."""

from __future__ import annotations

from click.testing import CliRunner

from dailypapers.cli import main
from dailypapers.config import Config
from dailypapers.library import Library
from tests.demo import cli_env

PASSWORD = "correct horse battery"


def test_users_commands_mirror_the_library(db_config: Config) -> None:
    run = CliRunner()
    env = cli_env(db_config)

    def users(*args: str, password: str | None = None) -> str:
        result = run.invoke(main, ["users", *args], env=env, input=password)
        assert result.exit_code == 0, result.output
        return result.output

    assert users("create", "ada", "ada@example.org", "--password-stdin", password=PASSWORD + "\n").startswith(
        "created ada\tada@example.org\tadmin"
    )
    typed = run.invoke(main, ["users", "create", "bob", "bob@example.org"], env=env, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert typed.exit_code == 0 and "bob\tbob@example.org\tmember\tactive" in typed.output
    assert PASSWORD not in typed.output  # asked without echo
    assert "bob\tbob@example.org\tadmin" in users("promote", "bob")
    assert "bob\tbob@example.org\tmember" in users("promote", "bob", "--demote")
    assert "disabled" in users("disable", "bob")
    users("disable", "bob", "--enable")
    users("set-password", "bob", "--password-stdin", password="a brand new pass phrase\n")
    lines = users("list").splitlines()
    assert [line.split("\t")[0] for line in lines] == ["ada", "bob"]
    assert users("invite").startswith("/signup?invite=")

    lib = Library(db_config)
    try:
        assert lib.accounts.authenticate("bob", "a brand new pass phrase").username == "bob"
    finally:
        lib.close()

    for args, typed, message in [
        (["create", "ada", "other@example.org", "--password-stdin"], PASSWORD, "That username is taken"),
        (["promote", "nobody"], PASSWORD, "There is no user 'nobody'"),
        (["create", "x", "x@example.org", "--password-stdin"], "short", "at least 8 characters"),
        (["create", "y", "y@example.org", "--password-stdin"], "password", "too easy to guess"),  # issue 21 #15
        (["set-password", "bob", "--password-stdin"], "bob@example.org", "must not be the email address"),
    ]:
        result = run.invoke(main, ["users", *args], env=env, input=typed + "\n")
        assert result.exit_code == 1 and message in result.output, result.output
