"""Reading small patterns in a Theano graph, for the speed-ups' rewrites (speedups.py,
speedups_pool.py, speedups_rmsprop.py): which Elemwise made a variable, and constants."""
from theano import scalar, tensor as T


def elemwise_inputs(v, scalar_op, n):
    """v's inputs where v is the output of an Elemwise of that scalar op with n inputs, else None."""
    op = v.owner.op if v.owner else None
    if isinstance(op, T.Elemwise) and isinstance(op.scalar_op, scalar_op) and len(v.owner.inputs) == n:
        return v.owner.inputs
    return None


def scalar_constant(v, dtype):
    """The value of v, a constant scalar (of any broadcastable rank) of this dtype, else None."""
    if not (isinstance(v, T.TensorConstant) and v.dtype == dtype and all(v.broadcastable)):
        return None
    return v.data.flat[0]


def constant_times(v, dtype):
    """(k, x) where v = mul(k, x) or mul(x, k), k a scalar constant of the dtype, else None."""
    inputs = elemwise_inputs(v, scalar.Mul, 2)
    for k, x in (inputs, inputs[::-1]) if inputs else ():
        if scalar_constant(k, dtype) is not None:
            return scalar_constant(k, dtype), x
    return None
