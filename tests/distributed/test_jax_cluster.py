"""`jax_cluster`: which environment variables describe a multi-process JAX run."""

import pytest

from sensorlm_keras.backend.jax.jax_processes import jax_cluster
from sensorlm_keras.errors import ConfigError

JAX_NAMES = {"JAX_COORDINATOR_ADDRESS": "127.0.0.1:1234", "JAX_NUM_PROCESSES": "2",
             "JAX_PROCESS_ID": "1"}
KERAS_NAMES = {"KERAS_DISTRIBUTION_JOB_ADDRESSES": "127.0.0.1:1234,127.0.0.1:1235",
               "KERAS_DISTRIBUTION_NUM_PROCESSES": "2", "KERAS_DISTRIBUTION_PROCESS_ID": "0"}


def test_no_variables_means_one_process():
    assert jax_cluster(environ={}) is None


def test_jax_names_and_keras_names_are_read():
    assert jax_cluster(environ=JAX_NAMES) == ("127.0.0.1:1234", 2, 1)
    assert jax_cluster(environ=KERAS_NAMES) == ("127.0.0.1:1234,127.0.0.1:1235", 2, 0)
    # Keras' own names win when both sets are given (keras.distribution.initialize's choice).
    assert jax_cluster(environ={**JAX_NAMES, **KERAS_NAMES})[2] == 0


def test_explicit_arguments_win_over_the_environment():
    assert jax_cluster("10.0.0.1:99", 4, 3, environ=JAX_NAMES) == ("10.0.0.1:99", 4, 3)


@pytest.mark.parametrize("missing", sorted(JAX_NAMES))
def test_a_partial_set_names_what_is_missing(missing):
    environ = {k: v for k, v in JAX_NAMES.items() if k != missing}
    with pytest.raises(ConfigError, match=missing):
        jax_cluster(environ=environ)


@pytest.mark.parametrize("count,index,message", [
    ("two", "0", "must be integers"), ("2", "2", "0 <= process id < number of processes"),
    ("0", "0", "0 <= process id"), ("2", "-1", "received process id -1 of 2"),
])
def test_bad_values_are_clear_errors(count, index, message):
    environ = {**JAX_NAMES, "JAX_NUM_PROCESSES": count, "JAX_PROCESS_ID": index}
    with pytest.raises(ConfigError, match=message):
        jax_cluster(environ=environ)
