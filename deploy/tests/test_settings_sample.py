"""The settings sample packed with the release lists every setting the binary reads, with the default
the README gives it, in a form systemd's EnvironmentFile=, docker's --env-file and the gateway's own
.env all read the same way."""
import re
import subprocess

from conftest import REPO

SAMPLE = REPO / "deploy" / "ollama-gateway.env.sample"
README = REPO / "README.md"


def binary_settings(binary):
    """Every environment name `serve --help` gives: the flags' "(NAME, default …)" and the list of
    settings without a flag."""
    text = subprocess.run([str(binary), "serve", "--help"], capture_output=True, text=True, check=True).stdout
    text = re.sub(r"\s+", " ", text)
    names = set(re.findall(r"\(([A-Z][A-Z0-9_]+)[,)]", text))
    without_flag = re.search(r"Settings without a flag: (.*?)\. The README", text)
    assert without_flag, "serve --help no longer lists the settings without a flag"
    names |= {name.strip() for name in without_flag.group(1).split(",")}
    return names


def readme_defaults():
    """NAME → default from the README's configuration table (`none` → empty, `off` → false)."""
    defaults = {}
    for line in README.read_text().splitlines():
        match = re.match(r"^\| (?:`--[a-z-]+`)? *\| `([A-Z0-9_]+)` \| ([^|]*) \|", line)
        if match:
            default = match.group(2).strip().strip("`")
            defaults[match.group(1)] = {"none": "", "off": "false"}.get(default, default)
    return defaults


def sample_defaults():
    """NAME → value of each commented `# NAME=value` line of the sample."""
    return dict(re.findall(r"^# ([A-Z][A-Z0-9_]+)=(.*)$", SAMPLE.read_text(), re.MULTILINE))


def test_sample_lists_every_setting_the_binary_reads(gateway_binary):
    names = binary_settings(gateway_binary)
    assert {"HOST", "PORT", "DATABASE_URL", "SHUTDOWN_DRAIN_TIMEOUT_MS"} <= names  # the parsing works
    missing = names - sample_defaults().keys()
    assert not missing, f"deploy/ollama-gateway.env.sample lacks {sorted(missing)}"


def test_every_setting_the_binary_reads_is_in_the_readme(gateway_binary):
    readme = README.read_text()
    missing = {name for name in binary_settings(gateway_binary) if f"`{name}`" not in readme}
    assert not missing, f"README's configuration table lacks {sorted(missing)}"


def test_sample_defaults_are_the_readme_defaults():
    readme, sample = readme_defaults(), sample_defaults()
    assert len(readme) > 30, "the README table was not found"
    wrong = {name: (sample.get(name), default) for name, default in readme.items() if sample.get(name) != default}
    assert not wrong, f"sample value, README default: {wrong}"


def test_sample_names_only_real_settings(gateway_binary):
    stale = sample_defaults().keys() - binary_settings(gateway_binary)
    assert not stale, f"the sample names settings the binary does not read: {sorted(stale)}"


def test_sample_lines_are_plain_assignments_or_comments():
    """No quotes (docker's --env-file would keep them), no `export`, nothing set by default."""
    for number, line in enumerate(SAMPLE.read_text().splitlines(), 1):
        assert line == "" or line.startswith("#"), f"line {number} sets something: {line!r}"
        if re.match(r"^# [A-Z0-9_]+=", line):
            assert '"' not in line and "'" not in line and " = " not in line, f"line {number}: {line!r}"
