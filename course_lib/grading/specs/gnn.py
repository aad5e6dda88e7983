"""Specs of 16_gnn."""

import torch

from . import Call, answer, question
from ._inputs import randint, randn, uniform

F64 = torch.float64


@question("gnn-sym-norm-tests")
def _sym_norm(g):
    calls = []
    for _ in range(3):
        A = (uniform(g, 12, 12) < 0.3).double()
        A = torch.triu(A, 1)
        A = A + A.T
        A[0, :], A[:, 0] = 0, 0  # an isolated node
        calls.append(Call("sym_norm", (A,), atol=1e-10))
    return calls


@question("gnn-message-step-tests")
def _message_step(g):
    calls = []
    for _ in range(3):
        edges = randint(g, 0, 15, 2, 40)
        calls.append(Call("message_step", (randn(g, 15, 4, dtype=F64), edges), atol=1e-10))
    repeated = torch.tensor([[0, 0], [1, 1]])
    return [*calls, Call("message_step", (torch.tensor([[1.0], [2.0]]), repeated))]


@question("gnn-mean-readout-tests")
def _mean_readout(g):
    calls = []
    for n, graphs in [(30, 4), (7, 7), (50, 3)]:
        batch = torch.cat([torch.arange(graphs), randint(g, 0, graphs, n - graphs)])
        batch = batch[torch.randperm(n, generator=g)]  # interleaved graphs
        calls.append(Call("mean_readout", (randn(g, n, 5, dtype=F64), batch, graphs), atol=1e-10))
    return calls


# The analysis question of 16_gnn (its derivation is in the solution notebook).
answer("gnn-propagation-answer-tests", "answer_q4", 1 / 6, rtol=0.001)
