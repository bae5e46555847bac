"""Declaring flows: references, naming rules and declaration errors. No database is touched."""

from __future__ import annotations

import pickle

import pyarrow as pa
import pytest

from tabledag import (
    DeclarationError,
    DuplicateNameError,
    Flow,
    RawSql,
    Stage,
    Table,
    materialize,
)
from tabledag.core.task import MaterializingTask, TaskCall, TaskRef

from . import tasks


def test_task_called_in_flow_returns_reference() -> None:
    with Flow("f") as flow, Stage("raw") as stage:
        ref = tasks.numbers()
    assert isinstance(ref, TaskRef)
    assert ref.path == ()
    assert isinstance(ref.call, TaskCall)
    assert ref.call.task is tasks.numbers
    assert ref.call.stage is stage
    assert ref.call.id == "raw.numbers"
    assert flow.tasks == [ref.call]
    assert stage.tasks == [ref.call]


def test_arguments_are_wired_into_upstream() -> None:
    with Flow("f") as flow:
        with Stage("one"):
            a = tasks.numbers()
        with Stage("two"):
            b = tasks.passthrough(t=a)
            c = tasks.add(a, y=b)
    assert b.call.kwargs == {"t": a}
    assert b.call.upstream == [a.call]
    assert c.call.args == (a,)
    assert c.call.upstream == [a.call, b.call]
    assert [s.name for s in flow.stages] == ["one", "two"]
    assert [s.position for s in flow.stages] == [0, 1]


def test_getitem_gives_sub_reference() -> None:
    with Flow("f"), Stage("s"):
        ref = tasks.parts()
        left = ref["left"]
        deep = ref["left"][0]
    assert isinstance(left, TaskRef)
    assert left.call is ref.call
    assert left.path == ("left",)
    assert deep.path == ("left", 0)
    assert left == ref["left"]
    assert hash(left) == hash(ref["left"])
    assert left != ref["right"]


def test_nout_unpacks_into_references() -> None:
    with Flow("f"), Stage("s"):
        first, second = tasks.pair()
    assert first.call is second.call
    assert (first.path, second.path) == ((0,), (1,))


def test_unpacking_without_nout_explains_itself() -> None:
    with Flow("f"), Stage("s"):
        ref = tasks.numbers()
        with pytest.raises(TypeError, match="nout"):
            _a, _b = ref


def test_using_a_later_stage_in_an_earlier_stage_is_rejected() -> None:
    with Flow("f"):
        with Stage("early") as early:
            tasks.numbers()
        with Stage("late"):
            late_ref = tasks.pair()[0]
        # Going back into the earlier stage to use the later stage's output is not allowed.
        with pytest.raises(DeclarationError), early:
            tasks.passthrough(late_ref)


def test_later_stage_position_check_names_both_stages() -> None:
    """The wiring check itself: a call may not use a reference from a later stage."""
    with Flow("f"):
        with Stage("s0") as early:
            tasks.numbers()
        with Stage("s1"):
            later = tasks.numbers()
    with pytest.raises(DeclarationError, match="later stage") as info:
        TaskCall(tasks.passthrough, early, (later,), {})
    assert "'s0'" in str(info.value)
    assert "'s1'" in str(info.value)


def test_reference_from_another_flow_is_rejected() -> None:
    with Flow("first"), Stage("a"):
        foreign = tasks.numbers()
    with Flow("second"):
        with Stage("b0"):
            tasks.numbers()
        with Stage("b1"), pytest.raises(DeclarationError):
            # `foreign` belongs to another flow: its output will never exist in this one.
            tasks.passthrough(foreign)


def test_same_task_twice_in_one_stage_is_memoized_or_a_new_instance() -> None:
    # pipedag's rule: equal inputs stand for the first call; other inputs make another one
    with Flow("f"), Stage("s") as stage:
        first = tasks.numbers()
        again = tasks.numbers()
        other = tasks.add(1)
        same = tasks.add(1)
        more = tasks.add(2, y=first)
        renamed = tasks.numbers.with_name("Numbers_Again")()
    assert again.call is first.call and same.call is other.call
    assert more.call is not other.call and more.call.name == "add_2"
    assert renamed.call.name == "numbers_again"
    assert [c.name for c in stage.tasks] == ["numbers", "add", "add_2", "numbers_again"]


def test_another_task_of_the_same_name_is_a_duplicate() -> None:
    with Flow("f"), Stage("s"):
        tasks.numbers()
        with pytest.raises(DuplicateNameError, match="with_name"):
            tasks.add.with_name("numbers")(1)


def test_calls_with_uncomparable_inputs_are_never_merged() -> None:
    frame = pa.table({"x": [1]})
    with Flow("f"), Stage("s") as stage:
        tasks.passthrough(frame)
        tasks.passthrough(frame)
    assert [c.name for c in stage.tasks] == ["passthrough", "passthrough_2"]


def test_duplicate_name_error_is_a_declaration_error() -> None:
    assert issubclass(DuplicateNameError, DeclarationError)
    assert issubclass(DeclarationError, ValueError)


def test_same_task_in_two_stages_is_fine() -> None:
    with Flow("f") as flow:
        with Stage("a"):
            tasks.numbers()
        with Stage("b"):
            tasks.numbers()
    assert [c.id for c in flow.tasks] == ["a.numbers", "b.numbers"]


def test_with_name_keeps_settings() -> None:
    other = tasks.versioned_consumer.with_name("other")
    assert isinstance(other, MaterializingTask)
    assert other.name == "other"
    assert other.fn is tasks.versioned_consumer.fn
    assert other.version == "1"
    assert other.input_type is pa.Table
    assert tasks.versioned_consumer.name == "versioned_consumer"


def test_duplicate_stage_name_in_flow() -> None:
    with Flow("f"):
        with Stage("s"):
            pass
        with pytest.raises(DuplicateNameError), Stage("S"):
            pass


def test_names_are_case_insensitive() -> None:
    @materialize(name="  MyTask ")
    def fn() -> None:
        return None

    assert fn.name == "mytask"
    with Flow("f") as flow, Stage("Raw") as stage:
        fn()
    assert stage.name == "raw"
    assert flow["RAW"] is stage
    with pytest.raises(KeyError):
        flow["nope"]


@pytest.mark.parametrize("bad", [int, dict, object], ids=lambda t: t.__name__)
def test_unservable_input_type_fails_at_decoration(bad: type) -> None:
    with pytest.raises(DeclarationError, match="input") as info:

        @materialize(input_type=bad)
        def fn(t: object) -> None:
            return None

    assert "'fn'" in str(info.value)
    assert "pandas.DataFrame" in str(info.value)


def test_custom_class_input_type_fails_at_decoration() -> None:
    class Custom:
        pass

    with pytest.raises(DeclarationError, match="Custom"):
        materialize(input_type=Custom)(lambda t: t)


def test_calling_a_task_outside_a_flow_runs_the_function() -> None:
    assert tasks.add(1, 2) == 3
    assert tasks.add(1) == 11
    assert tasks.add(x=5, y=5) == 10


def test_calling_outside_a_flow_unwraps_table_and_raw_sql() -> None:
    data = pa.table({"a": [1]})
    assert tasks.unwrap_table(Table(data, name="t")) is data
    assert tasks.unwrap_table(RawSql("SELECT 1")) == "SELECT 1"
    assert tasks.unwrap_table([Table(1), {"k": Table(2)}]) == [1, {"k": 2}]


def test_calling_a_task_in_a_flow_but_outside_a_stage_is_rejected() -> None:
    with Flow("f"), pytest.raises(DeclarationError, match=r"[Ss]tage"):
        tasks.add(1, 2)


def test_stage_outside_flow_errors() -> None:
    with pytest.raises(DeclarationError, match="inside a Flow"), Stage("lonely"):
        pass


def test_nested_stages_and_flows_error() -> None:
    with Flow("f"):
        with Stage("outer"), pytest.raises(DeclarationError, match="nested"), Stage("inner"):
            pass
        with pytest.raises(DeclarationError, match="nested"), Flow("g"):
            pass


def test_declaration_context_is_cleared_after_errors() -> None:
    with pytest.raises(RuntimeError), Flow("f"), Stage("s"):
        raise RuntimeError("user code failed while declaring")
    # Neither the flow nor the stage is still current: a task call runs the function again.
    assert tasks.add(1, 1) == 2
    with pytest.raises(DeclarationError), Stage("x"):
        pass


def test_task_pickles_by_import_path() -> None:
    assert pickle.loads(pickle.dumps(tasks.numbers)) is tasks.numbers
    renamed = pickle.loads(pickle.dumps(tasks.numbers.with_name("Other")))
    assert isinstance(renamed, MaterializingTask)
    assert renamed.name == "other"
    assert renamed.fn is tasks.numbers.fn
    assert renamed.version == "1"


def test_task_call_arguments_pickle() -> None:
    with Flow("f"):
        with Stage("a"):
            upstream = tasks.parts()
        with Stage("b"):
            ref = tasks.add(upstream["left"], y={"n": [1, 2.5, "s", None]})
    call = ref.call

    args, kwargs = pickle.loads(pickle.dumps((call.args, call.kwargs)))
    assert kwargs == {"y": {"n": [1, 2.5, "s", None]}}
    (arg,) = args
    assert isinstance(arg, TaskRef)
    assert arg.path == ("left",)
    assert arg.call.id == "a.parts"
    assert arg.call.task is tasks.parts

    clone = pickle.loads(pickle.dumps(call))
    assert clone.id == "b.add"
    assert clone.task is tasks.add
    assert [u.id for u in clone.upstream] == ["a.parts"]
