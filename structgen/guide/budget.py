"""Budget-aware completion: how many tokens a guide may still spend, and what fits.

Accounting. ``max_tokens`` counts every token the guide consumes, EOS included: a guide
created with ``max_tokens=N`` consumes at most ``N`` tokens, its last one EOS whenever the
caller takes the EOS it is offered. One token is always held back for EOS, so with ``R``
tokens remaining:

* EOS is allowed in an accepting state (``R >= 1`` always holds there);
* any other token is allowed only if the state ``q`` it leads to has
  ``tokens_to_accept[q] + 1 <= R - 1``: after it, the shortest completion and EOS still fit.

``tokens_to_accept`` (:meth:`structgen.index.TokenIndex.tokens_to_accept`) is a distance in
a graph of real token moves, so a state with value ``d > 0`` always has a token to a state
with value ``d - 1``, and that token passes the rule above. By induction, every sequence of
allowed tokens ends — in an accepting state where only EOS is left, or by consuming EOS —
within ``max_tokens`` tokens, whatever the sampler picks.

Over a grammar that calls modules on a stack (:class:`structgen.index.StackIndex`) the cost
of a configuration is a sum over its states of a per-state bound (the fewer of the tokens
to the end of its module without calls and the bytes, each a token of its own, with
calls): from a configuration with cost ``d > 0`` some allowed token leads to one with cost
at most ``d - 1``, so the same induction holds.

In an array whose string items must differ, the values written count too: there a token
must also leave a cost (:meth:`structgen.index.unique_masks.UniqueMasks.cost`, the fewest
tokens to acceptance with a new value for each item) of at most ``R - 2``; that cost has the
same property, so the same induction holds.
"""

from __future__ import annotations

from structgen.errors import TokenBudgetError
from structgen.index.distance import UNREACHABLE
from structgen.index.stack_index import StackIndex
from structgen.index.token_index import TokenIndex

__all__ = ["check_budget", "step_limit"]


def check_budget(index: TokenIndex | StackIndex, max_tokens: int) -> None:
    """Raise unless ``max_tokens`` fits the shortest output from the start state plus EOS.

    The default (fast) ``tokens_to_accept`` is an upper bound of the true minimum; before
    refusing a budget, the exact minimum is computed (one walk per reachable state), so the
    error is raised only for budgets that really are too small.

    Raises
    ------
    TokenBudgetError
        With the minimum in the message.
    ValueError
        If ``max_tokens`` is not positive.
    """
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1 (room for EOS), got {max_tokens}")
    needed = index.cost(index.start)
    if needed + 1 <= max_tokens:
        return
    needed = index.cost(index.start, exact=True)
    if needed == UNREACHABLE:
        raise TokenBudgetError(
            "no sequence of this vocabulary's tokens spells a complete output of this "
            "grammar (the vocabulary lacks tokens for some bytes it needs)"
        )
    if needed + 1 > max_tokens:
        raise TokenBudgetError(
            f"max_tokens={max_tokens} is below the shortest valid output: {needed} tokens "
            f"plus 1 for EOS; pass max_tokens={needed + 1} or more"
        )


def step_limit(remaining: int) -> int:
    """The largest ``tokens_to_accept`` a non-EOS token may lead to with ``remaining`` left."""
    return remaining - 2
