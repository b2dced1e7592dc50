"""oee.quality against published worked examples (cited at each test) and hand-computed
cases: FPY and scrap rate (ISO 22400-2), the defect Pareto, rolled throughput yield."""

from __future__ import annotations

import math

import pytest

from oee.quality import (
    ParetoRow,
    Rty,
    Tally,
    defect_pareto,
    first_pass_yield,
    rolled_throughput_yield,
    scrap_rate,
)

# ----------------------------------------------------------------- FPY and scrap rate


def test_fpy_and_scrap_ratio_are_iso_22400_2_ratios() -> None:
    # ISO 22400-2:2014 KPIs "First pass yield" FPY = GP / IP and "Scrap ratio" SQ / PQ.
    # Hand-computed: 1,965 good of 2,000 counted: 0.9825; 35 rejects: 0.0175.
    assert first_pass_yield(1965, 2000) == pytest.approx(0.9825, abs=1e-12)
    assert scrap_rate(35, 2000) == pytest.approx(0.0175, abs=1e-12)


def test_fty_of_the_sixsigma_package_example_without_rework() -> None:
    # R package SixSigma, `ss.ca.yield(c(3,5,12), c(1,2,4), 1915)` (Cano, Moguerza &
    # Redchuk, "Six Sigma with R", Springer 2012): Yield = (1915 - 20) / 1915. Counted
    # without rework (the gateway knows none) the FPY is that yield: 1895 / 1915 =
    # 0.98955613... (hand-computed from the package's documented formula).
    assert first_pass_yield(1915 - 20, 1915) == pytest.approx(0.9895561358, abs=1e-10)
    # With its 7 reworked parts counted as not first-time good, FTY = (1915-20-7)/1915.
    assert first_pass_yield(1915 - 27, 1915) == pytest.approx(0.9859007833, abs=1e-10)


def test_no_parts_is_no_figure_not_zero_or_one() -> None:
    assert first_pass_yield(0, 0) is None
    assert scrap_rate(0, 0) is None
    assert Tally().fpy is None and Tally().scrap_rate is None


@pytest.mark.parametrize(
    ("good", "total", "message"),
    [
        (-1, 10, "first-pass yield: counts cannot be negative (got -1 of 10)"),
        (11, 10, "first-pass yield: 11 is more than the 10 parts counted"),
        (1, -1, "first-pass yield: counts cannot be negative (got 1 of -1)"),
    ],
)
def test_impossible_counts_are_refused(good: int, total: int, message: str) -> None:
    with pytest.raises(ValueError) as e:
        first_pass_yield(good, total)
    assert str(e.value) == message


def test_a_tally_adds_moves_between_good_and_reject() -> None:
    # Hand-computed: 100 parts (97 good, 3 reject), then 2 of the good booked as scrap
    # (total 0, good -2, reject +2), then a reject found good after all (0, +1, -1):
    # 100 parts, 96 good, 4 reject: FPY 0.96, scrap rate 0.04.
    t = Tally().plus(100, 97, 3).plus(0, -2, 2).plus(0, 1, -1)
    assert t == Tally(100, 96, 4)
    assert (t.consistent, t.fpy, t.scrap_rate) == (True, 0.96, 0.04)


def test_a_window_that_only_moved_earlier_parts_has_no_figures() -> None:
    # 5 parts counted in the window, 8 parts of an earlier window booked as scrap in it:
    # good -3, reject 8 of 5. Not a yield of this window's parts: None, not -0.6 or 1.6.
    t = Tally().plus(5, 5, 0).plus(0, -8, 8)
    assert (t.consistent, t.fpy, t.scrap_rate) == (False, None, None)


# ----------------------------------------------------------------- the defect Pareto


def test_pareto_of_the_qcc_pareto_chart_example() -> None:
    # qcc (Scrucca), help page `pareto.chart`, Examples: defect <- c(80, 27, 66, 94, 33)
    # named "price code", "schedule date", "supplier code", "contact num.", "part num.";
    # its table: contact num. 94 (31.33 %, cum. 31.33 %), price code 80 (26.67, 58.00),
    # supplier code 66 (22.00, 80.00), part num. 33 (11.00, 91.00), schedule date 27
    # (9.00, 100.00).
    booked = [(1, "price code", 80), (2, "schedule date", 27), (3, "supplier code", 66),
              (4, "contact num.", 94), (5, "part num.", 33)]  # fmt: skip
    rows = defect_pareto(booked)
    assert [(r.reason, r.count) for r in rows] == [
        ("contact num.", 94), ("price code", 80), ("supplier code", 66),
        ("part num.", 33), ("schedule date", 27),
    ]  # fmt: skip
    assert [round(100 * r.share, 2) for r in rows] == [31.33, 26.67, 22.0, 11.0, 9.0]
    assert [round(100 * r.cumulative, 2) for r in rows] == [31.33, 58.0, 80.0, 91.0, 100.0]


def test_pareto_sums_by_code_breaks_ties_by_code_and_puts_the_unassigned_last() -> None:
    # Hand-computed: Scratch (101) 8 + 4 = 12, Dent (102) 3, Burr (103) 3 (a tie with
    # Dent: the lower code first), 20 rejects nobody booked: 38 in all. The unassigned
    # come last although the largest ("other" goes last).
    booked = [(101, "Scratch", 8), (103, "Burr", 3), (101, "Scratch", 4), (102, "Dent", 3)]
    rows = defect_pareto(booked, unassigned=20, unassigned_reason="counted by the machine")
    assert rows == [
        ParetoRow(101, "Scratch", 12, 12 / 38, 12 / 38),
        ParetoRow(102, "Dent", 3, 3 / 38, 15 / 38),
        ParetoRow(103, "Burr", 3, 3 / 38, 18 / 38),
        ParetoRow(None, "counted by the machine", 20, 20 / 38, 1.0),
    ]


def test_pareto_takes_the_latest_text_of_a_code_and_is_empty_without_rejects() -> None:
    rows = defect_pareto([(7, "Scratch", 1), (7, "Scratch (surface)", 1)])
    assert rows == [ParetoRow(7, "Scratch (surface)", 2, 1.0, 1.0)]
    assert defect_pareto([]) == []
    assert defect_pareto([], unassigned=0) == []


def test_pareto_refuses_negative_quantities() -> None:
    with pytest.raises(ValueError, match=r"reason 7: a quantity cannot be negative \(-1\)"):
        defect_pareto([(7, "Scratch", -1)])
    with pytest.raises(ValueError, match=r"unassigned rejects cannot be negative \(-2\)"):
        defect_pareto([], unassigned=-2)


# ----------------------------------------------------------------- rolled throughput yield


def test_rty_of_mikel_harrys_three_step_example() -> None:
    # M. Harry, "How Can I Determine If My Rolled Throughput Yield (RTY) Is Acceptable?",
    # iSixSigma, 2004: throughput yields 0.904834, 0.951229, 0.992032 (e^-dpu of 0.10,
    # 0.05, 0.008); Y_rt = 0.904834 x 0.951229 x 0.992032 = 0.853850: the product of the
    # unrounded e^-dpu, e^-0.158 (e^-0.10 is 0.904837; the article's 0.904834 is a slip
    # that does not reach its result).
    steps = [("A", 0.10), ("B", 0.05), ("C", 0.008)]
    r = rolled_throughput_yield([(s, math.exp(-dpu)) for s, dpu in steps])
    assert round(r.rty or 0, 6) == 0.853850
    assert (r.used, r.missing) == (("A", "B", "C"), ())


def test_rty_of_minitabs_label_process() -> None:
    # Minitab Support, "What are throughput yield (YTP) and rolled throughput yield
    # (YRT)?": label process 0.95 x 0.84 x 0.88 = 0.70 (700 of 1,000 labels acceptable).
    r = rolled_throughput_yield([("print", 0.95), ("cut", 0.84), ("apply", 0.88)])
    assert round(r.rty or 0, 2) == 0.70


def test_rty_of_the_sixsigma_package_example() -> None:
    # SixSigma `ss.ca.yield(c(3,5,12), c(1,2,4), 1915)`: RTY = prod((1915 - (d + r)) /
    # 1915) = 1911/1915 x 1908/1915 x 1899/1915 = 0.98595635 (hand-computed from the
    # package's documented formula).
    fpys = [(f"s{i}", first_pass_yield(1915 - n, 1915)) for i, n in enumerate((4, 7, 16))]
    r = rolled_throughput_yield(fpys)
    assert r.rty == pytest.approx(1911 * 1908 * 1899 / 1915**3, abs=1e-15)
    assert round(r.rty or 0, 8) == 0.98595635


def test_a_machine_without_parts_is_left_out_and_named_not_taken_as_one() -> None:
    r = rolled_throughput_yield([("m1", 0.9), ("m2", None), ("m3", 0.8)])
    assert r == Rty(pytest.approx(0.72), ("m1", "m3"), ("m2",))  # type: ignore[arg-type]
    assert rolled_throughput_yield([("m1", None)]) == Rty(None, (), ("m1",))
    assert rolled_throughput_yield([]) == Rty(None, (), ())


@pytest.mark.parametrize("bad", [1.2, -0.1, math.nan])
def test_rty_refuses_an_fpy_outside_0_1(bad: float) -> None:
    with pytest.raises(ValueError, match="m2: a first-pass yield is within 0..1"):
        rolled_throughput_yield([("m1", 0.9), ("m2", bad)])
