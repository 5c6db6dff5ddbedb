"""A function that treats every image apart computed a chunk of images at a time; registered by
plumbing/speedups.py, tag `chunked` (THEANO_FLAGS=optimizer_excluding=chunked turns it off).

Why: Theano runs a graph one op at a time on the whole batch, and with allow_gc=False
(theano_flags.py) keeps every intermediate buffer for the next call. The convnet's predict(teX) on
the 10,000 test images fills, at once and for good (shapes of the lesson's comments, float32):
conv1 and its rectifier, 10000 x 32 x 30 x 30, 1,152 MB (the rectifier works in place); pool1
288 MB; conv2 433 MB; pool2 125 MB; conv3 128 MB; pool3 46 MB; the dense layer 25 MB: 2.2 GB
(docs/performance.md, "Prediction in bounded memory"). Freeing each buffer after its last use would
still hold conv1 and pool1 together, 1.44 GB. Computed 256 images at a time, the same ops keep
56 MB.

What: ChunkedBatch wraps a function's whole graph in one op. It cuts each input along its first
axis into chunks of `images` rows, runs the graph compiled once (Theano's own ops, as optimised
for the whole function) on each chunk, and writes each chunk's outputs into the whole outputs. It
is swapped in after every other optimisation, and only where row i of every output depends on row
i of the inputs alone, which each op of the graph must show by a rule of batch_kinds():

- the function's inputs are tensors whose first axis is not broadcastable, besides shared
  variables and constants; no input is updated or destroyed (so no training step, no random
  stream that advances);
- every op that reads an input (directly or not) keeps the first axis as the batch's: elementwise
  ops (other operands broadcast over it), dimshuffles that keep axis 0 first, reductions, argmax
  and softmax over other axes, x . w with w not from the inputs, pooling and convolution of
  images by shared filters, reshape to (x.shape[0], ...); or it computes from the inputs' other
  axes' lengths only (x.shape[1]);
- every output is such a batch-first tensor.

The predictions are the same labels; the probabilities the same bits where the BLAS kernel sums
each entry of a GEMM in the same order whatever the number of rows (BatchedCorrMM's and Dot22's
GEMMs get fewer rows per call), else within the float32 rounding bound of those sums
(tests/test_speedups_chunked.py).
"""
import numpy as np
import theano
from theano import gof
from theano.compile import optdb
from theano.compile.ops import Shape, Shape_i
from theano.compile.sharedvalue import SharedVariable
from theano.tensor import basic as TB, blas, elemwise, TensorType
from theano.tensor.nnet import nnet
from theano.tensor.nnet.abstract_conv import AbstractConv2d
from theano.tensor.nnet.corr import CorrMM
from theano.tensor.opt import MakeVector
from theano.tensor.signal.pool import Pool

from plumbing.speedups_corr import FORWARD, BatchedCorrMM
from plumbing.speedups_pool import NonOverlappingMaxPool

# Images per chunk: a chunk's buffers stay tens of MB (conv1's output for 256 images is 29 MB), and
# each GEMM still gets hundreds of columns (chunks of 128 to 2,048 images measured: docs/performance.md).
CHUNK_IMAGES = 256

BATCH, INV, N, SHAPE_N = "batch", "invariant", "batch size", "shape (batch size, ...)"


class ChunkedBatch(gof.Op):
    """outputs = graph(inputs), computed `images` rows of the batch inputs at a time.

    inner_inputs, inner_outputs: the graph (its own variables, owned by this op); batched: which
    inputs are cut into chunks (the others, shared values and the like, go whole to every chunk).
    Where the batch inputs differ in length, or are no longer than a chunk, the graph runs once on
    the whole, as the stock function would.
    """

    def __init__(self, inner_inputs, inner_outputs, batched, images=CHUNK_IMAGES):
        assert len(inner_inputs) == len(batched) and any(batched)
        self.inner_inputs = list(inner_inputs)
        self.inner_outputs = list(inner_outputs)
        self.batched = tuple(bool(b) for b in batched)
        self.images = int(images)
        self.fn = None

    def __str__(self):
        return f"ChunkedBatch{{images={self.images}}}"

    def __getstate__(self):
        state = dict(self.__dict__)
        state["fn"] = None  # compiled again where it is unpickled
        return state

    def make_node(self, *inputs):
        inputs = [i.type.filter_variable(i) if hasattr(i, "type") else TB.as_tensor_variable(i) for i in inputs]
        if [i.type for i in inputs] != [i.type for i in self.inner_inputs]:
            raise TypeError(f"{self}: inputs of types {[i.type for i in inputs]}, "
                            f"expected {[i.type for i in self.inner_inputs]}")
        return gof.Apply(self, inputs, [o.type() for o in self.inner_outputs])

    def compile(self):
        """The inner graph as a function, once: it is already optimised (its ops, in-place ones
        included, come from the outer function's optimisation), so only linked."""
        if self.fn is None:
            mode = theano.compile.mode.Mode(linker=theano.config.linker, optimizer=None)
            self.fn = theano.function(self.inner_inputs, self.inner_outputs, mode=mode,
                                      accept_inplace=True, on_unused_input="ignore")
        return self.fn

    def prepare_node(self, node, storage_map, compute_map, impl):
        self.compile()  # when the outer function is linked, not on its first call

    def perform(self, node, inputs, outputs):
        fn = self.compile()
        lengths = {len(x) for x, b in zip(inputs, self.batched) if b}
        n = lengths.pop()
        if lengths or n <= self.images:
            results = fn(*inputs)
        else:
            results = None
            for start in range(0, n, self.images):
                stop = min(start + self.images, n)
                part = fn(*[x[start:stop] if b else x for x, b in zip(inputs, self.batched)])
                if results is None:
                    results = [np.empty((n,) + p.shape[1:], dtype=p.dtype) for p in part]
                for whole, p in zip(results, part):
                    if p.shape != (stop - start,) + whole.shape[1:]:
                        raise ValueError(f"{self}: a chunk of {stop - start} rows gave an output of shape "
                                         f"{p.shape}; compile with THEANO_FLAGS=optimizer_excluding=chunked")
                    whole[start:stop] = p
        for out, r in zip(outputs, results):
            out[0] = r


def _batch_first(var):
    return isinstance(var.type, TensorType) and var.ndim >= 1 and not var.broadcastable[0]


def _rule(node, kinds):
    """The kinds of node's outputs from those of its inputs, or None where the op is not known to
    treat the rows of its batch inputs apart."""
    op, ins, k = node.op, node.inputs, kinds
    rest_inv = all(x == INV for x in k[1:])
    n_out = len(node.outputs)
    if all(x == INV for x in k):
        return [INV] * n_out  # from the other axes' lengths (x.shape[1]), shared values, constants
    if all(x in (BATCH, INV) for x in k) and any(x == BATCH for x in k):
        batch_ins = [v for v, x in zip(ins, k) if x == BATCH]
        if not all(_batch_first(v) for v in batch_ins):
            return None
    if isinstance(op, Shape_i) and k == [BATCH]:
        return [N] if op.i == 0 else [INV]
    if isinstance(op, Shape) or N in k[1:] or SHAPE_N in k[:1] + k[2:]:
        return None
    if isinstance(op, elemwise.Elemwise):
        # INV operands broadcast along axis 0, the batch operands are all as long
        if all(x == BATCH or (x == INV and v.broadcastable[0]) for v, x in zip(ins, k)):
            return [BATCH] * n_out
        return None
    if k[0] != BATCH:
        return [SHAPE_N] if isinstance(op, MakeVector) and k[0] == N and rest_inv else None
    if not rest_inv and not isinstance(op, (TB.Reshape, blas.Gemm)):
        return None
    if isinstance(op, elemwise.DimShuffle):
        ok = tuple(op.new_order[:1]) == (0,)
    elif isinstance(op, (elemwise.CAReduce, TB.Argmax, TB.MaxAndArgmax)):
        ok = op.axis is not None and 0 not in op.axis
    elif isinstance(op, TB.Reshape):
        ok = k[1:] == [SHAPE_N] and op.ndim >= 1
    elif isinstance(op, (nnet.Softmax, nnet.SoftmaxWithBias, nnet.LogSoftmax)):
        ok = True  # row by row
    elif isinstance(op, (blas.Dot22, blas.Dot22Scalar, TB.Dot)):
        ok = ins[0].ndim == 2  # x . w, w not from the batch: row i from x's row i
    elif isinstance(op, blas.Gemm):  # z <- b z + a x . y: z and x from the batch, the rest not
        ok = k == [BATCH, INV, BATCH, INV, INV]
    elif isinstance(op, Pool):
        ok = ins[0].ndim > op.ndim  # pools the last ndim axes
    elif type(op) is CorrMM or isinstance(op, AbstractConv2d):
        ok = True  # images through shared filters
    elif isinstance(op, NonOverlappingMaxPool):
        ok = True
    elif isinstance(op, BatchedCorrMM):
        ok = op.direction == FORWARD
    else:
        ok = False
    return [BATCH] * n_out if ok else None


def batch_kinds(fgraph):
    """{variable: kind} for the variables computed from the function's non-shared inputs (the
    batch inputs), where every node computing them follows a rule of _rule(); None otherwise, or
    where a batch input is not batch-first, an input is updated or destroyed, or an output is not
    a batch tensor computed by the graph."""
    if getattr(fgraph, "update_mapping", None):
        return None
    batch_inputs = [i for i in fgraph.inputs if not isinstance(i, SharedVariable)]
    if not batch_inputs or not all(_batch_first(i) for i in batch_inputs):
        return None
    if hasattr(fgraph, "has_destroyers") and fgraph.has_destroyers(fgraph.inputs):
        return None
    kinds = {i: BATCH for i in batch_inputs}
    for node in fgraph.toposort():
        if not any(v in kinds for v in node.inputs):
            continue  # computed from shared values and constants only: outside the chunks' graph
        out = _rule(node, [kinds.get(v, INV) for v in node.inputs])
        if out is None:
            return None
        kinds.update(zip(node.outputs, out))
    if not all(kinds.get(o) == BATCH and o.owner is not None for o in fgraph.outputs):
        return None
    return kinds


class ChunkedBatchOptimizer(gof.Optimizer):
    """The whole graph -> ChunkedBatch, where batch_kinds() finds it safe."""

    def __init__(self, images=CHUNK_IMAGES):
        super().__init__()
        self.images = images

    def add_requirements(self, fgraph):
        fgraph.attach_feature(gof.toolbox.ReplaceValidate())

    def apply(self, fgraph):
        kinds = batch_kinds(fgraph)
        if kinds is None:
            return
        inner = set(kinds)  # the batch inputs and what is computed from them
        # the op's inputs: the batch inputs the graph reads, then what it reads from outside (shared
        # values, what is computed from them alone); constants stay in the graph
        nodes = [n for n in fgraph.toposort() if any(v in inner for v in n.inputs)]
        outer = [i for i in fgraph.inputs if i in inner and any(i in n.inputs for n in nodes)]
        for n in nodes:
            outer += [v for v in n.inputs if v not in inner and not isinstance(v, gof.Constant) and v not in outer]
        # an in-place op may not write into what the chunks share: the op's inputs stay whole
        for n in nodes:
            for positions in getattr(n.op, "destroy_map", {}).values():
                if any(n.inputs[p] in outer for p in positions):
                    return
        outputs = list(dict.fromkeys(fgraph.outputs))
        memo = {v: v.type(name=v.name) for v in outer}
        equiv = gof.graph.clone_get_equiv(outer, outputs, memo=memo)
        op = ChunkedBatch([equiv[v] for v in outer], [equiv[o] for o in outputs],
                          [kinds.get(v) == BATCH for v in outer], images=self.images)
        new = op(*outer, return_list=True)
        fgraph.replace_all_validate(list(zip(outputs, new)), reason="chunked")


# After every other optimisation (merge3 is at 100): the inner graph is the one the stock function runs.
optdb.register("chunked", ChunkedBatchOptimizer(), 100.5, "fast_run")  # its name is its tag
