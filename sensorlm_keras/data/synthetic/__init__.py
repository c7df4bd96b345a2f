"""Synthetic wearable days: simulated people, their schedules and their channel values.

- `SyntheticDayGenerator` (``synthetic_day_generator``): people x days -> `SyntheticDays`.
- `SimulatedPerson` (``simulated_person``): the traits of one synthetic wearer.
- `ActivityProfile` / `ACTIVITY_PROFILES` (``activity_profile``): how each logged activity
  shows in the channels.
- ``sleep``: nights and sleep stages; ``schedule``: activities, moods, off-wrist gaps and
  everyday movement; ``signals``: the 34 channel values from that schedule.

NumPy only.
"""

from sensorlm_keras.data.synthetic.activity_profile import ACTIVITY_PROFILES, ActivityProfile
from sensorlm_keras.data.synthetic.simulated_person import MOODS, SimulatedPerson
from sensorlm_keras.data.synthetic.synthetic_day_generator import SyntheticDayGenerator
from sensorlm_keras.data.synthetic.synthetic_days import SyntheticDays

__all__ = [
    "ACTIVITY_PROFILES",
    "MOODS",
    "ActivityProfile",
    "SimulatedPerson",
    "SyntheticDayGenerator",
    "SyntheticDays",
]
