"""What the models learn, from their saved weights: the logistic regression's ten templates, 100
first-layer units of each net, the convnet's 32 first-layer filters."""
import numpy as np

from tools.figures.drawing import image_grid


def weight_pictures(models, out):
    """logistic_templates.png, first_layer_3_net.png, first_layer_4_modern_net.png and conv_filters.png
    into out, for each script that has a saved model in models."""
    if "2_logistic_regression" in models:
        w = np.load(models["2_logistic_regression"], allow_pickle=False)["w"]  # (784, 10)
        image_grid(w.T.reshape(10, 28, 28), 10, out / "logistic_templates.png",
                   "What it learns: the logistic regression's weights, digits 0-9", cmap="RdBu_r", size=1.2,
                   labels=[str(d) for d in range(10)])
    for script in ("3_net", "4_modern_net"):
        if script in models:
            w_h = np.load(models[script], allow_pickle=False)["w_h"]  # (784, 625)
            image_grid(w_h.T[:100].reshape(100, 28, 28), 10, out / f"first_layer_{script}.png",
                       f"{script}: weights of 100 of the 625 first-layer units", cmap="RdBu_r", size=0.8)
    if "5_convolutional_net" in models:
        w = np.load(models["5_convolutional_net"], allow_pickle=False)["w"]  # (32, 1, 3, 3)
        image_grid(w[:, 0], 8, out / "conv_filters.png", "The convnet's 32 first-layer 3x3 filters",
                   cmap="RdBu_r", size=0.8)
