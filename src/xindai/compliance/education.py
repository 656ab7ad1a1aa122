"""The borrower-education gate: a product's lesson must be watched and its quiz passed before the
borrowing flow continues (PRODUCT.md, "borrower education gate").

Watch time is measured by the *server*: ``started_at`` and ``finished_at`` are the server's clock
readings when the borrower opened and closed the lesson, never anything a client reports, so no
client can skip or shorten it. The lesson counts as completed when

* ``finished_at − started_at ≥ min_watch_seconds`` (default 300 s), and
* the quiz was answered with at least ``pass_mark`` correct answers.

Invariants: pure (the caller passes the server timestamps); ``check_education`` returns an empty
list exactly when the gate is passed, otherwise every reason (zh-CN and English).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from xindai.kernel.errors import ValidationError

DEFAULT_MIN_WATCH_SECONDS = 300


class QuizItemLike(Protocol):
    @property
    def choices(self) -> Sequence[object]: ...
    @property
    def answer(self) -> int: ...


class LessonLike(Protocol):
    """What the gate reads from a product's lesson (``products.catalogue.Lesson``)."""

    @property
    def lesson_id(self) -> str: ...
    @property
    def min_watch_seconds(self) -> int: ...
    @property
    def quiz(self) -> Sequence[QuizItemLike]: ...
    @property
    def pass_mark(self) -> int: ...


@dataclass(frozen=True, slots=True)
class LessonProgress:
    """The server's record of one borrower's lesson for one application."""

    lesson_id: str
    started_at: datetime
    finished_at: datetime | None = None
    quiz_correct: int | None = None

    @property
    def watched_seconds(self) -> float:
        if self.finished_at is None:
            return 0.0
        return max(0.0, (self.finished_at - self.started_at).total_seconds())


@dataclass(frozen=True, slots=True)
class EducationGap:
    code: str  # not-started | not-finished | too-short | quiz-failed | wrong-lesson
    reason_zh: str
    reason_en: str


def grade_quiz(lesson: LessonLike, answers: Sequence[int]) -> int:
    """The number of correct answers (one choice index per question, in order); refuses a wrong
    count or an index outside a question's choices, naming it."""
    if isinstance(answers, str) or not isinstance(answers, Sequence):
        raise ValidationError("answers", "must be a list of choice indexes, one per question")
    if len(answers) != len(lesson.quiz):
        raise ValidationError("answers", f"expected {len(lesson.quiz)} answers, got {len(answers)}")
    correct = 0
    for n, (a, q) in enumerate(zip(answers, lesson.quiz, strict=True)):
        if isinstance(a, bool) or not isinstance(a, int) or not 0 <= a < len(q.choices):
            raise ValidationError(f"answers[{n}]", f"must be a choice index 0–{len(q.choices) - 1}")
        correct += a == q.answer
    return correct


def check_education(lesson: LessonLike, progress: LessonProgress | None) -> list[EducationGap]:
    """Every reason the gate is not passed; empty when it is."""
    if progress is None:
        return [EducationGap("not-started", "未完成金融知识学习课程", "the lesson was not started")]
    if progress.lesson_id != lesson.lesson_id:
        return [
            EducationGap(
                "wrong-lesson",
                "完成的课程不是本产品要求的课程",
                f"lesson {progress.lesson_id} is not this product's lesson {lesson.lesson_id}",
            )
        ]
    gaps: list[EducationGap] = []
    if progress.finished_at is None:
        gaps.append(
            EducationGap("not-finished", "金融知识课程尚未看完", "the lesson was not finished")
        )
    else:
        need = lesson.min_watch_seconds or DEFAULT_MIN_WATCH_SECONDS
        if progress.watched_seconds < need:
            gaps.append(
                EducationGap(
                    "too-short",
                    f"课程观看时长{int(progress.watched_seconds)}秒，少于要求的{need}秒",
                    f"the lesson was watched for {int(progress.watched_seconds)} s by the server's"
                    f" clock, less than the required {need} s",
                )
            )
    if progress.quiz_correct is None or progress.quiz_correct < lesson.pass_mark:
        got = "no" if progress.quiz_correct is None else str(progress.quiz_correct)
        gaps.append(
            EducationGap(
                "quiz-failed",
                f"课后测验未通过（需答对{lesson.pass_mark}题）",
                f"the quiz was not passed ({got} correct, {lesson.pass_mark} needed)",
            )
        )
    return gaps
