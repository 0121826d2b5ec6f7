"""Subscribing without reactivex's per-subscription machinery, where nothing needs it.

reactivex's ``subscribe`` runs every outermost subscription through a trampoline (so a
synchronous source cannot emit before the disposable is assigned) and wraps the
callbacks in an ``AutoDetachObserver`` (which drops whatever arrives after a terminal
notification or a dispose, at one more call per item). rxstream's task sources need
neither: they never emit inside ``subscribe`` (``from_http`` starts a task), emit only
until disposed, and notify at most one terminal event; a fused decoder chain over one
gives its own subscriber the same guarantees. So both are subscribed *directly*: the
subscriber's callables go to the source as they are, and items reach them with no hop
in between. Starting, running and stopping a ``from_http`` pipeline that way saves
about a fifth of what the pipeline costs per request; synchronous sources
(``reactivex.from_iterable``) keep reactivex's path, where a chain that completes early
stops them at once.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar, cast

from reactivex import Observable, abc
from reactivex.disposable import Disposable
from reactivex.internal.basic import default_error

T = TypeVar("T")


class Callbacks(Generic[T]):
    """A bare observer: the three callables themselves, with no wrapper around them.

    Only for sources that keep the observer contract on their own (see the module
    docstring); ``on_next`` is the subscriber's function, so a call costs one frame.
    """

    __slots__ = ("on_completed", "on_error", "on_next")

    def __init__(
        self,
        on_next: abc.OnNext[T] | None,
        on_error: abc.OnError | None,
        on_completed: abc.OnCompleted | None,
    ) -> None:
        self.on_next = on_next or _ignore
        self.on_error = on_error or default_error
        self.on_completed = on_completed or _nothing


def _ignore(_: Any) -> None:
    pass


def _nothing() -> None:
    pass


def subscribe_directly(
    observable: Observable[T],
    on_next: abc.ObserverBase[T] | abc.OnNext[T] | None = None,
    on_error: abc.OnError | None = None,
    on_completed: abc.OnCompleted | None = None,
    *,
    scheduler: abc.SchedulerBase | None = None,
) -> abc.DisposableBase:
    """``observable.subscribe(...)`` for a source that keeps the observer contract itself
    (see the module docstring): the callbacks go to it unwrapped."""
    if isinstance(on_next, abc.ObserverBase):
        given: abc.ObserverBase[T] = on_next
        on_next, on_error, on_completed = given.on_next, given.on_error, given.on_completed
    observer = Callbacks(on_next, on_error, on_completed)
    try:
        return observable._subscribe_core(cast(abc.ObserverBase[T], observer), scheduler)
    except Exception as error:
        observer.on_error(error)
        return Disposable()


def is_direct(observable: Observable[Any]) -> bool:
    """Whether ``observable`` keeps the observer contract itself (see the module
    docstring), so that it, and what forwards to it unchanged, is subscribed directly."""
    return bool(getattr(observable, "keeps_contract", False))


class DirectObservable(Observable[T]):
    """An ``Observable`` that never emits inside ``subscribe``, emits nothing once
    disposed and at most one terminal notification (a task source): subscribed
    directly (see the module docstring)."""

    keeps_contract = True

    def subscribe(
        self,
        on_next: abc.ObserverBase[T] | abc.OnNext[T] | None = None,
        on_error: abc.OnError | None = None,
        on_completed: abc.OnCompleted | None = None,
        *,
        scheduler: abc.SchedulerBase | None = None,
    ) -> abc.DisposableBase:
        """As ``Observable.subscribe``: an observer or callbacks; returns the disposable."""
        return subscribe_directly(self, on_next, on_error, on_completed, scheduler=scheduler)
