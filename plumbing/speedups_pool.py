"""The pooling ops of plumbing/speedups.py: max pooling with windows that do not overlap, its
gradient, and the rectifier computed inside both. Imported (and so registered) by speedups.py; the
same results as Theano's Pool, MaxPoolGrad and Elemwise, bit for bit (tests/test_speedups.py).

- Pool (max), for pooling windows that do not overlap (ws == stride, no padding): Theano's C code
  addresses every element through PyArray_GETPTR4. Here each window is read straight from memory
  (fast_pool).
- MaxPoolGrad, likewise (fast_pool_grad): Theano's C code was 39 % of a convnet training step.
  Here each input element looks up its one window directly, one image plane at a time, without a
  branch; where the pooled values are rectified, maximum(a, 0), the rectifier's gradient
  eq(x, a) * g is computed in the same pass (fast_fuse) instead of by an Elemwise reading and
  writing it all again.
- The rectifier itself, maximum(a, 0), where only the pooling and its fused gradient read it: both
  compute it from a, element by element as Theano's Elemwise does (fast_relu_pool), and the
  convnet's largest tensor, the first layer's rectified output, is neither written nor read again.

The C code is in plumbing/c_code/max_pool.c and max_pool_grad.c, read and filled by
plumbing/c_source.py.
"""
import numpy as np
import theano
from theano import gof, tensor as T
from theano.tensor.opt import register_specialize
from theano.tensor.signal.pool import MaxPoolGrad, Pool

from plumbing.c_source import c_source, c_version
from plumbing.graph_patterns import elemwise_inputs


def rectified_element(dtype, p, k):
    """C for maximum(p[k], 0) with the bits of Theano's scalar Maximum, NaN and -0.0 included:
    0 > e ? 0 : (e >= 0 ? e : nan("")). There nan("") makes the expression a double; here it is
    cast to the dtype first, which gives the same bits and lets g++ vectorize in the dtype."""
    e, zero = f"({p})[{k}]", f"({dtype}) 0"
    return f'({zero} > {e} ? {zero} : ({e} >= {zero} ? {e} : ({dtype}) nan("")))'


def rectify(a):
    """NumPy's maximum(a, 0) with the bits of Theano's C code: NaN becomes nan(""), -0.0 stays."""
    with np.errstate(invalid="ignore"):
        return np.where(0 > a, a.dtype.type(0), np.where(a >= 0, a, a.dtype.type(np.nan)))


def omp_pragmas(openmp):
    """The C files' %(omp_parallel)s and %(omp_for)s: a team of threads, and its loop shared among them."""
    return ("#pragma omp parallel", "#pragma omp for schedule(static)") if openmp else ("", "")


class NonOverlappingMaxPoolGrad(gof.OpenMPOp):
    """Gradient of 2D max pooling over the last two axes of a 4D tensor, windows ws == stride.

    gx[i, j] = gz[window of (i, j)] where x[i, j] equals that window's max, else 0: what
    MaxPoolGrad gives when every element lies in at most one window (ties all get the gradient).
    rectified: x = maximum(a, 0) and a fourth input a, the output then being the gradient with
    respect to a, eq(x, a) * gx, the rectifier's gradient as Theano writes it (Maximum.grad), in
    the same pass (local_fused_rectify_pool_grad). from_a (rectified only): the inputs are a, z, gz
    and x = maximum(a, 0) is computed in the pass, never stored (local_rectify_in_pool).
    """
    __props__ = ("ws", "rectified", "from_a")

    def __init__(self, ws, openmp=None, rectified=False, from_a=False):
        super().__init__(openmp=openmp)
        self.ws = tuple(int(k) for k in ws)
        self.rectified = bool(rectified) or bool(from_a)
        self.from_a = bool(from_a)

    def __setstate__(self, d):
        self.__dict__.update(d)
        self.__dict__.setdefault("rectified", False)
        self.__dict__.setdefault("from_a", False)

    def make_node(self, x, z, gz, *a):
        inputs = [T.as_tensor_variable(v) for v in (x, z, gz, *a)]
        assert len(inputs) == 3 + (self.rectified and not self.from_a)
        assert all(v.ndim == 4 and v.dtype == inputs[0].dtype for v in inputs)
        return gof.Apply(self, inputs, [inputs[0].type()])

    def infer_shape(self, node, shapes):
        return [shapes[0]]

    def perform(self, node, inputs, outputs):
        x, z, gz = inputs[:3]
        a = x if self.from_a else inputs[3] if self.rectified else None
        if self.from_a:
            x = rectify(a)
        kh, kw = self.ws
        h, w = x.shape[2:]
        rows = np.minimum(np.arange(h) // kh, z.shape[2] - 1)
        cols = np.minimum(np.arange(w) // kw, z.shape[3] - 1)
        inside = (np.arange(h) // kh < z.shape[2])[:, None] & (np.arange(w) // kw < z.shape[3])[None, :]
        z_up, gz_up = (v[:, :, rows][:, :, :, cols] for v in (z, gz))
        gx = np.zeros_like(x)
        np.add(gx, gz_up, out=gx, where=(x == z_up) & inside)
        if self.rectified:
            gx = (x == a).astype(x.dtype) * gx
        outputs[0][0] = gx

    def c_compile_args(self):
        # the selects vectorize only if g++ may compute both sides; no value changes (tests/test_speedups.py)
        return super().c_compile_args() + ["-fno-trapping-math"]

    def c_code_cache_version(self):
        return (5, self.openmp, self.rectified, self.from_a, c_version("max_pool_grad.c"))

    def c_code(self, node, name, inputs, outputs, sub):
        x, z, gz = inputs[:3]
        gx, = outputs
        kh, kw = self.ws
        fail = sub["fail"]
        a = inputs[3] if self.rectified and not self.from_a else x
        rect, from_a = int(self.rectified), int(self.from_a)
        relu = rectified_element(f"dtype_{x}", "xs", "k")
        omp_parallel, omp_for = omp_pragmas(self.openmp)
        return c_source("max_pool_grad.c", locals(), indent=8)


class NonOverlappingMaxPool(gof.OpenMPOp):
    """2D max pooling over the last two axes of a 4D tensor, windows ws == stride, no padding.

    Each output is the first element of its window, replaced by any later one that is greater,
    row by row: Pool's own rule, so NaNs and ties give the same bits. rectify: the input is a and
    what is pooled maximum(a, 0), computed element by element as Theano's Elemwise computes it
    (local_rectify_in_pool).
    """
    __props__ = ("ws", "ignore_border", "rectify")

    def __init__(self, ws, ignore_border, openmp=None, rectify=False):
        super().__init__(openmp=openmp)
        self.ws = tuple(int(k) for k in ws)
        self.ignore_border = bool(ignore_border)
        self.rectify = bool(rectify)

    def __setstate__(self, d):
        self.__dict__.update(d)
        self.__dict__.setdefault("rectify", False)

    def out_size(self, n, k):
        return n // k if self.ignore_border else (n + k - 1) // k

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        assert x.ndim == 4
        return gof.Apply(self, [x], [x.type()])

    def infer_shape(self, node, shapes):
        (b, c, h, w), (kh, kw) = shapes[0], self.ws
        return [(b, c, self.out_size(h, kh), self.out_size(w, kw))]

    def grad(self, inputs, output_grads):
        x, = inputs
        if self.rectify:  # the rectifier, then the pooling: the gradients T.grad writes for the two
            a, x = x, T.maximum(x, 0)
        gx = MaxPoolGrad(ignore_border=self.ignore_border, ndim=2)(
            x, self(inputs[0]), output_grads[0], self.ws, self.ws, (0, 0))
        return [T.eq(x, a) * gx if self.rectify else gx]

    def perform(self, node, inputs, outputs):
        x, = inputs
        if self.rectify:
            x = rectify(x)
        (kh, kw), (h, w) = self.ws, x.shape[2:]
        h2, w2 = self.out_size(h, kh), self.out_size(w, kw)
        z = np.empty(x.shape[:2] + (h2, w2), dtype=x.dtype)
        for i in range(h2):
            for j in range(w2):
                window = x[:, :, i * kh:min(i * kh + kh, h), j * kw:min(j * kw + kw, w)]
                best = window[:, :, 0, 0].copy()
                for r in range(window.shape[2]):
                    for c in range(window.shape[3]):
                        np.copyto(best, window[:, :, r, c], where=window[:, :, r, c] > best)
                z[:, :, i, j] = best
        outputs[0][0] = z

    def c_compile_args(self):
        # the selects vectorize only if g++ may compute both sides; no value changes (tests/test_speedups.py)
        return super().c_compile_args() + ["-fno-trapping-math"]

    def c_code_cache_version(self):
        return (5, self.openmp, self.rectify, c_version("max_pool.c"))

    def c_code(self, node, name, inputs, outputs, sub):
        x, = inputs
        z, = outputs
        kh, kw = self.ws
        fail = sub["fail"]
        rectify, relu = int(self.rectify), rectified_element(f"dtype_{x}", "X", "t * HW + k")
        omp_parallel, omp_for = omp_pragmas(self.openmp)
        h2 = "H / %d" % kh if self.ignore_border else "(H + %d) / %d" % (kh - 1, kh)
        w2 = "W / %d" % kw if self.ignore_border else "(W + %d) / %d" % (kw - 1, kw)
        return c_source("max_pool.c", locals(), indent=8)


def constant_tuple(v):
    return tuple(int(i) for i in v.data) if isinstance(v, T.TensorConstant) else None


@register_specialize("fast_pool_grad")
@gof.local_optimizer([MaxPoolGrad])
def local_nonoverlapping_max_pool_grad(node):
    """MaxPoolGrad -> NonOverlappingMaxPoolGrad where windows neither overlap nor are padded."""
    if not isinstance(node.op, MaxPoolGrad) or node.op.mode != "max" or node.op.ndim != 2:
        return None
    x, z, gz, ws, stride, pad = node.inputs
    ws, stride, pad = constant_tuple(ws), constant_tuple(stride), constant_tuple(pad)
    if x.ndim != 4 or ws is None or ws != stride or pad != (0, 0) or not x.dtype == z.dtype == gz.dtype:
        return None
    return [NonOverlappingMaxPoolGrad(ws, openmp=node.op.openmp)(x, z, gz)]


@register_specialize("fast_pool")
@gof.local_optimizer([Pool])
def local_nonoverlapping_max_pool(node):
    """Pool -> NonOverlappingMaxPool where windows neither overlap nor are padded."""
    if not isinstance(node.op, Pool) or node.op.mode != "max" or node.op.ndim != 2:
        return None
    x, ws, stride, pad = node.inputs
    ws, stride, pad = constant_tuple(ws), constant_tuple(stride), constant_tuple(pad)
    if x.ndim != 4 or ws is None or ws != stride or pad != (0, 0):
        return None
    return [NonOverlappingMaxPool(ws, node.op.ignore_border, openmp=node.op.openmp)(x)]


@register_specialize("fast_fuse")
@gof.local_optimizer([T.Elemwise])
def local_fused_rectify_pool_grad(node):
    """eq(x, a) * NonOverlappingMaxPoolGrad(x, z, gz), x = maximum(a, 0) pooled: the rectifier's
    gradient after the pooling's, as T.grad writes them (Maximum.grad), -> one pass,
    NonOverlappingMaxPoolGrad(rectified=True)(x, z, gz, a). The pooling gradient's output must
    have no other use."""
    if elemwise_inputs(node.outputs[0], theano.scalar.Mul, 2) is None:
        return None
    for eq, pg in (node.inputs, node.inputs[::-1]):
        compared = elemwise_inputs(eq, theano.scalar.EQ, 2)
        if not (compared and pg.owner and isinstance(pg.owner.op, NonOverlappingMaxPoolGrad)
                and not pg.owner.op.rectified):
            continue
        x, z, gz = pg.owner.inputs
        first, second = compared
        a = second if first is x else first if second is x else None
        if a is None or a.type != x.type or node.outputs[0].type != x.type:
            continue
        if len(pg.clients) != 1:
            continue
        return [NonOverlappingMaxPoolGrad(pg.owner.op.ws, openmp=pg.owner.op.openmp, rectified=True)(x, z, gz, a)]
    return None


def rectifier_input(x):
    """a where x = maximum(a, 0) (Theano's Elemwise, 0 a positive zero constant, x of a's type), else None."""
    inputs = elemwise_inputs(x, theano.scalar.Maximum, 2)
    if inputs is None:
        return None
    a, zero = inputs
    try:
        value = T.get_scalar_constant_value(zero, only_process_constants=True)
    except T.NotScalarConstantError:
        return None
    if value != 0 or np.signbit(value) or a.type != x.type:
        return None
    return a


@register_specialize("fast_relu_pool")
@gof.local_optimizer([NonOverlappingMaxPool, NonOverlappingMaxPoolGrad])
def local_rectify_in_pool(node):
    """The rectifier x = maximum(a, 0) computed inside the pooling ops that read x, never stored:
    NonOverlappingMaxPool(x) -> NonOverlappingMaxPool(rectify=True)(a), and the fused gradient
    NonOverlappingMaxPoolGrad(rectified=True)(x, z, gz, a) -> (from_a=True)(a, z, gz). Once both
    have, nothing reads x and Theano drops it: the convnet's largest tensor is neither written nor read."""
    op = node.op
    if isinstance(op, NonOverlappingMaxPool) and not op.rectify:
        a = rectifier_input(node.inputs[0])
        if a is not None:
            return [NonOverlappingMaxPool(op.ws, op.ignore_border, openmp=op.openmp, rectify=True)(a)]
    if isinstance(op, NonOverlappingMaxPoolGrad) and op.rectified and not op.from_a:
        x, z, gz, a = node.inputs
        if rectifier_input(x) is a:
            return [NonOverlappingMaxPoolGrad(op.ws, openmp=op.openmp, rectified=True, from_a=True)(a, z, gz)]
    return None
