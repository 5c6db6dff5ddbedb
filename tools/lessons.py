"""The lessons: their names, what each trains, and importing one as a module."""
import importlib.util
import sys
from collections import namedtuple
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the lessons' folder

SCRIPTS = ["0_multiply", "1_linear_regression", "2_logistic_regression", "3_net", "4_modern_net",
           "5_convolutional_net"]
UNDERSTANDING = "understanding"  # the "Understanding SGD / sigmoids / rectifiers / RMSprop" slides
LESSONS = SCRIPTS + [UNDERSTANDING]  # every file that teaches

Lesson = namedtuple("Lesson", "model slide image")
MNIST_LESSONS = {  # the scripts that learn MNIST: the slide's model, its test accuracy, one input's shape
    "2_logistic_regression": Lesson("logistic regression", "92.5 %", (784,)),
    "3_net": Lesson("'old' net: sigmoid hidden layer, SGD", "98.4 %", (784,)),
    "4_modern_net": Lesson("'modern' net: rectifiers, dropout, RMSprop", "99.0 %", (784,)),
    "5_convolutional_net": Lesson("convolutional net", "99.5 %", (1, 28, 28)),  # (channels, rows, columns)
}


def as_input(script, images):
    """MNIST images (n, 784) shaped as the script's model takes them: (n, 784) or (n, 1, 28, 28)."""
    return images.reshape(-1, *MNIST_LESSONS[script].image)


def import_script(name):
    """A lesson as a module, by its name ('3_net') or a path less .py: the way tools and tests
    import a script (`import 3_net` is a syntax error: a name cannot start with a digit). Builds
    and trains nothing. Import plumbing.defaults first, as the lessons do."""
    path = Path(name) if Path(name).is_absolute() else ROOT / name
    spec = importlib.util.spec_from_file_location(path.name, path.with_suffix(".py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as `import` does: its functions can find their module
    spec.loader.exec_module(module)
    return module
