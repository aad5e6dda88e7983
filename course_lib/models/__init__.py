"""Models, one module per family (perceptron, mlp, cnn, ...)."""
