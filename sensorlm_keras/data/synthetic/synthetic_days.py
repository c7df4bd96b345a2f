"""`SyntheticDays`: the output of `SyntheticDayGenerator.generate`."""

import dataclasses

from sensorlm_keras.data.wearable_days import WearableDays


@dataclasses.dataclass
class SyntheticDays(WearableDays):
    """Synthetic person-days (`WearableDays`) plus the simulated people behind them.

    Args:
        raw, events, person_ids, day_index, activity_labels, schema, info: see `WearableDays`.
            ``info["offwrist"]`` is the ``(N, 1440)`` boolean off-wrist mask and
            ``info["asleep"]`` the ``(N, 1440)`` boolean sleep mask used to simulate the signal.
        people: the `SimulatedPerson` of every person, in person order.

    Example:

    ```python
    from sensorlm_keras.data import SyntheticDayGenerator

    days = SyntheticDayGenerator().generate(num_people=3, days_per_person=2, seed=1)
    days.people[0].resting_hr
    days.activity_labels[:2]
    ```
    """

    people: tuple = ()
