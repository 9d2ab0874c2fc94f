"""The processes of an `accelerate launch` run, seen from code that is not inside a trainer's
own Accelerator: which one is the main process, a barrier, the main process's choice shared
with all, and "main first" for work whose result every process then reads (one writer per
file). With one process every helper is a no-op."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def process_state() -> Any:
    """accelerate's process state as an Accelerator would set it up (on a CPU-only machine
    under `accelerate launch --cpu`/ACCELERATE_USE_CPU, the gloo process group)."""
    from accelerate import PartialState
    from accelerate.utils import parse_flag_from_env

    return PartialState(cpu=parse_flag_from_env("ACCELERATE_USE_CPU"))


def main_process() -> bool:
    return process_state().is_main_process


def wait_for_everyone() -> None:
    process_state().wait_for_everyone()


def shared_choice(choice: Any) -> Any:
    """The main process's `choice`, on every process: a choice that came out differently on
    one process (a judge that failed there, a file that appeared in between) must not send
    the processes down different paths (a different number of steps each, and a hang)."""
    state = process_state()
    if state.num_processes == 1:
        return choice
    from accelerate.utils import broadcast_object_list

    return broadcast_object_list([choice], from_process=0)[0]


@contextmanager
def main_first() -> Iterator[None]:
    """The main process runs the block first; the others run it once it is done (and find its
    result there: a build that is already built returns at once)."""
    state = process_state()
    if not state.is_main_process:
        state.wait_for_everyone()
    yield
    if state.is_main_process:
        state.wait_for_everyone()
