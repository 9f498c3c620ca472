from gpt2_adventure.engine.llama.hardware import (
    _linux_cpu_model,
    _linux_physical_cores,
    physical_cores,
)

HYPERTHREADED = """processor\t: 0
physical id\t: 0
core id\t\t: 0

processor\t: 1
physical id\t: 0
core id\t\t: 0

processor\t: 2
physical id\t: 0
core id\t\t: 1

processor\t: 3
physical id\t: 0
core id\t\t: 1
"""


def test_two_hyperthreads_per_core_count_once() -> None:
    assert _linux_physical_cores(HYPERTHREADED) == 2


def test_cpuinfo_without_core_ids_counts_zero_so_callers_fall_back() -> None:
    assert _linux_physical_cores("processor\t: 0\nmodel name\t: ARM\n") == 0


def test_physical_cores_is_positive() -> None:
    assert physical_cores() >= 1


def test_the_cpu_model_is_the_first_model_name_line() -> None:
    x86 = "processor\t: 0\nmodel name\t: AMD EPYC 7B13\n\nprocessor\t: 1\nmodel name\t: other\n"
    assert _linux_cpu_model(x86) == "AMD EPYC 7B13"
    assert _linux_cpu_model("processor\t: 0\nHardware\t: BCM2835\nModel\t: Raspberry Pi 4\n") \
        == "Raspberry Pi 4"
    assert _linux_cpu_model("processor\t: 0\n") == ""
