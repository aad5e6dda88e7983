import pytest
import torch
from tolerances import assert_close

from course_lib import distributed as D
from course_lib.data import load_digits


def test_shards_partition_the_batch():
    batch = torch.arange(12)
    parts = [D.shard(batch, r, 3) for r in range(3)]
    assert sorted(torch.cat(parts).tolist()) == list(range(12))


def test_data_parallel_equals_single_process():
    train, _, _ = load_digits()
    ddp = D.train_data_parallel(train.X, train.y, world_size=2, steps=5, batch_size=32)
    single = D.train_single_process(train.X, train.y, steps=5, batch_size=32)
    for name in single:
        # the two routes sum the batch of 32 in a different order, over 5 steps
        assert_close(ddp[name], single[name], ops=5 * 32)


def test_batch_must_split_evenly():
    with pytest.raises(ValueError, match="divisible"):
        D.train_data_parallel(torch.zeros(10, 64), torch.zeros(10), world_size=3, batch_size=32)
