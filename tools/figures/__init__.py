"""The talk's pictures, from the logs and models that reproduce.py (or --log / --save) wrote.

    python -m tools.figures [--results results] [--out RESULTS/figures]

logistic_templates.png  "What it learns": the ten 28x28 weight templates of the logistic regression
first_layer_3_net.png, first_layer_4_modern_net.png: 100 first-layer units of each net, as 28x28 images
conv_filters.png        the convnet's 32 first-layer 3x3 filters
accuracy.png            "Quantifying the difference": test accuracy per epoch, every model; a band
                        (lowest to highest) where several seeds ran
readout.png             "Zero One Two ... Nine": each model's probabilities for the same few test
                        digits, among them the first one each model gets wrong
noise.png               "Noise (or augmentation)": digits as the modern net sees them in training,
                        its input dropout (p = 0.2) applied, under the clean digit
conv_maps.png           "What a convolutional network learns": the feature maps of the convnet's
                        three conv + max-pool blocks for one test digit
misclassified.png       test digits the best saved model gets wrong, with true and predicted labels
understanding_*.png, understanding_rmsprop.gif: the moons lesson's boundaries and costs, from the
                        runs `understanding.py --save RESULTS/models/understanding.npz` wrote
Each script's model is the one saved by its longest run (seed 42 first, else the lowest seed); each
is evaluated again on the test set (no training) and its accuracy printed.
"""
# The pictures by family, each module beside this one:
#   saved.py     the saved models: each script's own model() on its saved weights, for prediction
#   drawing.py   what every picture shares: matplotlib without a display, a grid of images, the PNG
#   weights.py   what the models learn: templates, first-layer units, conv filters
#   accuracy.py  test accuracy per epoch over seeds
#   digits.py    test digits through the models: readout, noise, conv maps, misclassified
#   moons.py     the moons lesson's boundaries, costs and animation
#   __main__.py  python -m tools.figures: which pictures from what is there
from tools.figures.accuracy import accuracy_chart  # noqa: F401
from tools.figures.digits import P_DROP_INPUT, conv_maps, noisy_digits, readout  # noqa: F401
from tools.figures.saved import SavedModelError, probabilities, saved_predict  # noqa: F401
