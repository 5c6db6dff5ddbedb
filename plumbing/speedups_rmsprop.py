"""RMSprop's update of a parameter in one pass over memory (fast_rmsprop); imported, so registered,
by speedups.py. The same results as Theano's own loops, bit for bit (tests/test_speedups_rmsprop.py).

Lessons 4 and 5 update each parameter with their RMSprop(): acc_new = rho * acc + (1 - rho) * g ** 2,
p_new = p - lr * g / sqrt(acc_new + epsilon). Theano's optimised graph computes that in four
Elemwise loops (rho * acc; (1 - rho) * sqr(g); the new p; a + b), each reading and writing whole
tensors: the modern net's 784 x 625 weights are read and written again and again. RMSpropStep
computes both updates in one loop, with the graph's own constants and order of operations, and
writes p and acc in place as Theano's loops do.

The C code is in plumbing/c_code/rmsprop.c, read and filled by plumbing/c_source.py.
"""
import numpy as np
import theano
from theano import gof, scalar, tensor as T
from theano.compile import optdb

from plumbing.c_source import c_literal, c_source, c_version
from plumbing.graph_patterns import constant_times, elemwise_inputs, scalar_constant


class RMSpropStep(gof.OpenMPOp):
    """(p, acc, g) -> (p_new, acc_new), rho * acc + c * sqr(g) and p - lr * (g / r), where r is the
    square root of the sum of eps, rho * acc and c * sqr(g) in `order`, each operation rounded as
    Theano's Elemwise rounds it. rho, c, lr and eps are the graph's constants, as Python floats of
    the dtype's values; order: the positions of "eps", "a" (rho * acc) and "b" (c * sqr(g)) in the
    graph's sum. lr_first: p - (lr * g) / r instead, the form Theano gives where g is a function's
    input. inplace: p_new and acc_new are written over p and acc (local_rmsprop_inplace)."""
    __props__ = ("rho", "c", "lr", "eps", "order", "lr_first", "inplace")

    def __init__(self, rho, c, lr, eps, order=("eps", "a", "b"), lr_first=False, inplace=False, openmp=None):
        super().__init__(openmp=openmp)
        self.rho, self.c, self.lr, self.eps = (float(v) for v in (rho, c, lr, eps))
        self.order = tuple(order)
        assert sorted(self.order) == ["a", "b", "eps"]
        self.lr_first = bool(lr_first)
        self.inplace = bool(inplace)
        if self.inplace:
            self.destroy_map = {0: [0], 1: [1]}

    def __str__(self):
        return f"RMSpropStep{{lr={self.lr:.6g}, rho={self.rho:.6g}{', inplace' if self.inplace else ''}}}"

    def make_node(self, p, acc, g):
        p, acc, g = (T.as_tensor_variable(v) for v in (p, acc, g))
        assert p.type == acc.type == g.type and p.dtype in ("float32", "float64")
        return gof.Apply(self, [p, acc, g], [p.type(), p.type()])

    def infer_shape(self, node, shapes):
        return [shapes[0], shapes[0]]

    def perform(self, node, inputs, outputs):
        """Theano's own Python code for these loops (no C compiler): Elemwise's mul and add run in
        the dtype, while each fused Composite (c * sqr(g); the new p) runs element by element in
        Python floats, double precision, rounded to the dtype once at its end."""
        p, acc, g = inputs
        if not p.shape == acc.shape == g.shape:
            raise ValueError("RMSpropStep: the parameter, its accumulator and its gradient differ in shape")
        real, double = p.dtype.type, np.float64
        a = real(self.rho) * acc
        g64 = g.astype(double)
        b = (double(real(self.c)) * (g64 * g64)).astype(p.dtype)
        terms = {"eps": double(real(self.eps)), "a": a.astype(double), "b": b.astype(double)}
        first, second, third = (terms[k] for k in self.order)
        lr, r = double(real(self.lr)), np.sqrt(first + second + third)
        with np.errstate(all="ignore"):
            step = (lr * g64) / r if self.lr_first else lr * (g64 / r)
        p_new, acc_new = (p.astype(double) - step).astype(p.dtype), a + b
        if self.inplace:
            p[...], acc[...] = p_new, acc_new
            p_new, acc_new = p, acc
        outputs[0][0], outputs[1][0] = p_new, acc_new

    def c_compile_args(self):
        # no multiply fused into an add but the one Theano's loop fuses, written out in rmsprop.c
        return super().c_compile_args() + ["-ffp-contract=off"]

    def c_code_cache_version(self):
        return (1, self.openmp, theano.config.openmp_elemwise_minsize, c_version("rmsprop.c"))

    def c_code(self, node, name, inputs, outputs, sub):
        p, acc, g = inputs
        p_new, acc_new = outputs
        dtype = node.inputs[0].dtype
        rho, c, lr, eps = (c_literal(v, dtype) for v in (self.rho, self.c, self.lr, self.eps))
        names = {"eps": "EPS", "a": "a", "b": "b"}
        sum = " + ".join(names[k] for k in self.order)
        fma = "fmaf" if dtype == "float32" else "fma"
        omp = (f"#pragma omp parallel for schedule(static) if (n >= {theano.config.openmp_elemwise_minsize})"
               if self.openmp else "")
        inplace, lr_first, fail = int(self.inplace), int(self.lr_first), sub["fail"]
        return c_source("rmsprop.c", locals(), indent=8)


# --- finding RMSprop's update in the graph ------------------------------------------------------

def step_parts(step, dtype):
    """(lr, g, r, lr_first) where step = mul(lr, true_div(g, r)) (lr_first False) or
    true_div(mul(lr, g), r) (lr_first True), lr a scalar constant of the dtype, else None."""
    found = constant_times(step, dtype)
    div = elemwise_inputs(found[1], scalar.TrueDiv, 2) if found else None
    if div is not None:
        return found[0], div[0], div[1], False
    div = elemwise_inputs(step, scalar.TrueDiv, 2)
    found = constant_times(div[0], dtype) if div else None
    if found is not None:
        return found[0], found[1], div[1], True
    return None


@gof.local_optimizer([T.Elemwise])
def local_rmsprop_step(node):
    """p_new = sub(p, mul(lr, true_div(g, sqrt(add(eps, a, b))))) (or sub(p, true_div(mul(lr, g),
    sqrt(...)))) and acc_new = add(a, b), with a = mul(rho, acc) and b = mul(c, sqr(g)): what the
    lessons' RMSprop() becomes once Theano has canonicalised and specialised it, -> RMSpropStep(p,
    acc, g), both in one pass."""
    sub = elemwise_inputs(node.outputs[0], scalar.Sub, 2)
    if sub is None:
        return None
    p, step = sub
    dtype = p.dtype
    parts = step_parts(step, dtype) if dtype in ("float32", "float64") else None
    if parts is None or node.outputs[0].type != p.type:
        return None
    lr, g, root, lr_first = parts
    radicand = elemwise_inputs(root, scalar.Sqrt, 1)
    terms = elemwise_inputs(radicand[0], scalar.Add, 3) if radicand else None
    if terms is None:
        return None
    roles = {}  # "eps": (value, term), "a": (rho, acc, term), "b": (c, term)
    for term in terms:
        times = constant_times(term, dtype)
        if scalar_constant(term, dtype) is not None:
            roles["eps"] = (scalar_constant(term, dtype), term)
        elif times is not None and elemwise_inputs(times[1], scalar.Sqr, 1) == [g]:
            roles["b"] = (times[0], term)
        elif times is not None:
            roles["a"] = times + (term,)
    if sorted(roles) != ["a", "b", "eps"]:
        return None
    order = tuple(role for term in terms for role, found in roles.items() if found[-1] is term)
    (rho, acc, a), (c, b), eps = roles["a"], roles["b"], roles["eps"][0]
    if not p.type == acc.type == g.type or len({p, acc, g}) < 3:
        return None
    acc_new = [client.outputs[0] for client, _ in a.clients if client != "output"
               and elemwise_inputs(client.outputs[0], scalar.Add, 2) in ([a, b], [b, a])
               and client.outputs[0].type == p.type]
    if not acc_new:
        return None
    p_next, acc_next = RMSpropStep(rho, c, lr, eps, order, lr_first)(p, acc, g)
    return {node.outputs[0]: p_next, acc_new[0]: acc_next}


@gof.local_optimizer([RMSpropStep])
def local_rmsprop_inplace(node):
    """RMSpropStep -> its in-place version, where Theano lets p and acc be written over (an update's
    shared variable, as Theano's own loops write theirs)."""
    op = node.op
    if not isinstance(op, RMSpropStep) or op.inplace:
        return None
    return RMSpropStep(op.rho, op.c, op.lr, op.eps, op.order, op.lr_first, inplace=True,
                       openmp=op.openmp)(*node.inputs)


# after the graph is specialised (specialize_device 48.6), before Theano fuses its Elemwise loops (49);
# in place once the destroy handler is in (49.5), beside Theano's other in-place rewrites (70-75)
optdb.register("rmsprop_step", gof.TopoOptimizer(local_rmsprop_step, failure_callback=gof.TopoOptimizer.warn),
               48.8, "fast_run", "fast_rmsprop")
optdb.register("rmsprop_step_inplace", gof.TopoOptimizer(local_rmsprop_inplace,
                                                          failure_callback=gof.TopoOptimizer.warn_inplace),
               74.9, "fast_run", "inplace", "fast_rmsprop")
