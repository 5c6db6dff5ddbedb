"""--graph: print a cost's graph as a lesson builds it and the training function as Theano
compiled it, and draw the compiled one where pydot and graphviz are there."""
import importlib.util
import os
import shutil


def missing_for_picture():
    """What a picture of the graph needs and this machine lacks: [] or e.g. ['graphviz (its `dot` program)']."""
    missing = []
    if importlib.util.find_spec("pydot") is None:
        missing.append("pydot (pip install pydot)")
    if shutil.which("dot") is None:
        missing.append("graphviz, its `dot` program (Debian/Ubuntu: sudo apt-get install graphviz)")
    return missing


def picture_name(script):
    """SCRIPT_graph.png, in the current folder: where --graph draws the compiled graph of the lesson
    whose file (its __file__) is script."""
    return os.path.splitext(os.path.basename(script))[0] + "_graph.png"


def show_graph(cost, train, script):
    """Print the graphs; draw the compiled one into SCRIPT_graph.png in the current folder, where
    script is the lesson's file (its __file__)."""
    import theano
    picture = picture_name(script)
    print("The cost, as the script builds it:")
    theano.printing.debugprint(cost)
    print("\nThe training function, after Theano's optimisations:")
    theano.printing.debugprint(train)
    missing = missing_for_picture()
    if missing:
        print(f"\nno picture {picture}: it needs {' and '.join(missing)}")
        return
    theano.printing.pydotprint(train, outfile=picture, var_with_name_simple=True)
    print(f"\na picture of the compiled graph: {picture}")
