"""Theano ops that Theano's cache would compile again in every process, swapped for cacheable twins.

Imported by plumbing/defaults.py once Theano's flags are set. Theano keeps a compiled C module for
later processes under a key made of its ops' versions (theano/gof/cc.py, CLinker.cmodule_key_);
two kinds of op in the lessons defeat it:

- Ops without parameters, __props__ = (): the key lists each op's __props__, the *names* of its
  parameters, and takes any empty entry for "unversioned", a module never written to the cache,
  whatever the op's c_code_cache_version. The lessons have six: the matrix products Dot22 and
  Dot22Scalar, Softmax and LogSoftmax, DotModulo (MRG_RandomStreams's seeds) and ScalarFromTensor
  (the convnet's shapes); `THEANO_FLAGS=cmodule.warn_no_version=True` names them. Their twins have
  one parameter, cacheable = True.
- DimShuffle (broadcasting and transposes, in every lesson), whose version Theano's COp makes with
  hash() of its C code's text: Python salts that hash anew in every process (PYTHONHASHSEED), so
  no process finds the module an earlier one cached, and every run added one more to the cache.
  Its twin's version is a SHA-256 of the same text.

Each twin is a subclass of the stock op with the same name, parameters and C code, printed as the
stock op is. An optimisation late in the pipeline (CACHEABLE_POSITION: after the BLAS, softmax and
in-place rewrites, which look for the stock ops) swaps each stock op for its twin; tag "cacheable",
for optimizer_excluding. Before that, Theano's constant folding compiles the C code of the ops it
runs on constants, e.g. a learning rate broadcast by DimShuffle: fold_constants folds with the twins.

tests/test_cacheable.py checks that a second process compiles nothing and that the results are the
stock ops' bit for bit.
"""
import hashlib

from theano import gof
from theano.compile import optdb
from theano.sandbox import rng_mrg
from theano.tensor import basic, blas, elemwise
from theano.tensor.nnet import nnet
from theano.tensor.opt import constant_folding, copy_stack_trace, in2out


def with_parameter(stock):
    """A subclass of the op class `stock` under the same name, here in plumbing.cacheable (where a
    cached key, unpickled, finds it), whose __props__ is ('cacheable',); printed as the stock op is."""
    return type(stock)(stock.__name__, (stock,), {
        "__module__": __name__, "__qualname__": stock.__name__,
        "__doc__": f"{stock.__module__}.{stock.__name__} with a parameter, cacheable = True, so that "
                   f"Theano's cache keeps its compiled code for later processes.",
        "__props__": ("cacheable",), "cacheable": True, "__str__": stock.__str__})


Dot22 = with_parameter(blas.Dot22)
Dot22Scalar = with_parameter(blas.Dot22Scalar)
Softmax = with_parameter(nnet.Softmax)
LogSoftmax = with_parameter(nnet.LogSoftmax)
DotModulo = with_parameter(rng_mrg.DotModulo)
ScalarFromTensor = with_parameter(basic.ScalarFromTensor)


class DimShuffle(elemwise.DimShuffle):
    """elemwise.DimShuffle whose cache version is the same in every process: a SHA-256 of its C
    code's text where the stock op (COp) takes Python's salted hash() of it."""
    c_func_file = elemwise.DimShuffle.get_path(elemwise.DimShuffle.c_func_file)  # the stock op's C code

    def c_code_cache_version(self):
        digest = hashlib.sha256("\0".join(self.func_codes).encode()).hexdigest()
        return (int(digest[:15], 16),) + super().c_code_cache_version()[1:]


TWINS = {twin.__bases__[0]: twin for twin in
         (Dot22, Dot22Scalar, Softmax, LogSoftmax, DotModulo, ScalarFromTensor, DimShuffle)}

# After the in-place rewrites (75) and the random generators' (99), before the last merge (100)
CACHEABLE_POSITION = 99.5


@gof.local_optimizer(list(TWINS))
def local_cacheable_twin(node):
    """A stock op of TWINS -> its cacheable twin with the same parameters, on the same inputs."""
    twin = TWINS.get(type(node.op))
    if twin is None:
        return None
    new = twin(**node.op._props_dict()).make_node(*node.inputs).outputs
    copy_stack_trace(node.outputs, new)
    return new


optdb.register("cacheable_twins", in2out(local_cacheable_twin, name="cacheable_twins"), CACHEABLE_POSITION,
               "fast_run", "cacheable")


@gof.local_optimizer(None)
def fold_constants(node):
    """Theano's constant folding (theano/tensor/opt.py, constant_folding), on the node's cacheable
    twin where its op has one: Theano compiles the C code of the op it folds."""
    twin = TWINS.get(type(node.op))
    if twin is None or not all(isinstance(i, gof.Constant) for i in node.inputs):
        return constant_folding.transform(node)
    folded = constant_folding.transform(twin(**node.op._props_dict()).make_node(*node.inputs))
    if folded:
        copy_stack_trace(node.outputs, folded)
    return folded


# Theano folds constants as the last optimisation (final_opt) of these four databases, in the order
# their "fast_run" tag lists them: fold_constants is registered beside Theano's own, and Theano's is
# moved after it in that order, where it finds nothing left to fold; it alone runs where
# optimizer_excluding=cacheable.
for db in ("canonicalize", "stabilize", "specialize", "uncanonicalize"):
    optdb[db].register("cacheable_constant_folding", in2out(fold_constants, ignore_newtrees=True,
                                                            name="cacheable_constant_folding"),
                       "fast_run", "cacheable", final_opt=True)
    optdb[db].remove_tags("topo_constant_folding", "fast_run")
    optdb[db].add_tags("topo_constant_folding", "fast_run")
