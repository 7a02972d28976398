"""How many chunks the batched decoding takes together: small groups while a group is slow, up to batch_size."""

from voxledger.transcriber.adapters.batched import GroupSizer


def test_groups_start_at_one_chunk_and_double_while_they_stay_quick():
    sizer = GroupSizer(batch_size=8, target_s=1.5)
    assert sizer.size == 1
    sizes = []
    for _ in range(5):
        sizer.observe(sizer.size, 0.1 * sizer.size)  # 0.1 s a chunk: 15 would fit the target
        sizes.append(sizer.size)
    assert sizes == [2, 4, 8, 8, 8]


def test_a_slow_machine_keeps_groups_within_the_target():
    sizer = GroupSizer(batch_size=8, target_s=1.5)
    sizer.observe(1, 0.5)
    assert sizer.size == 2
    sizer.observe(2, 1.4)  # 0.7 s a chunk: two fit
    assert sizer.size == 2
    sizer.observe(2, 4.0)  # the machine got busy: one chunk at a time, never none
    assert sizer.size == 1
    sizer.observe(1, 9.0)
    assert sizer.size == 1


def test_a_batch_size_of_two_caps_the_groups():
    sizer = GroupSizer(batch_size=2, target_s=1.5)
    for _ in range(3):
        sizer.observe(sizer.size, 0.01)
    assert sizer.size == 2
