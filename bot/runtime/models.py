"""Loading a trained TensorFlow model (DIET) without tracing its training step.

Rasa 3.6 builds a loaded model's variables by training it for one step on an example
(``model.fit``) before reading the trained weights over them: TensorFlow then traces the
whole training graph, gradients and optimizer included, only to throw it away. That was
most of the Rasa server's start-up (issue 13's profile). Here the variables are built by one
eager pass of the prediction path, the trained weights are read over them (the optimizer's
slots in the file are not needed to predict), and only then is the model prepared for
prediction and its prediction function traced, as Rasa does. A model loaded to be trained
further (``finetune_mode``) is loaded by Rasa's own code.
``tests/bot/runtime/test_models.py`` checks that both loads predict exactly the same.
"""

from __future__ import annotations

import logging
from typing import Any

import tensorflow as tf
from rasa.utils import train_utils
from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY
from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.tensorflow.models import RasaModel

logger = logging.getLogger(__name__)
stock_load = RasaModel.load.__func__  # type: ignore[attr-defined]


def load(
    cls: type[RasaModel],
    model_file_name: str,
    model_data_example: RasaModelData,
    predict_data_example: RasaModelData | None = None,
    finetune_mode: bool = False,
    *args: Any,
    **kwargs: Any,
) -> RasaModel:
    """``RasaModel.load`` for prediction, without the training step (see the module doc)."""
    if finetune_mode or predict_data_example is None or predict_data_example.is_empty():
        return stock_load(
            cls, model_file_name, model_data_example, predict_data_example, finetune_mode, *args, **kwargs
        )
    model = cls(*args, **kwargs)
    config = kwargs.get("config", {})
    model.compile(
        optimizer=tf.keras.optimizers.Adam(config.get(LEARNING_RATE, 0.001)),
        run_eagerly=config.get(RUN_EAGERLY),
    )
    generator, _ = train_utils.create_data_generators(
        model_data=predict_data_example, batch_sizes=1, epochs=1, shuffle=False
    )
    batch = next(iter(generator))[0]
    model._training = False
    model.prepare_for_predict()  # builds the label embedding's variables (result discarded)
    model.batch_predict(batch)  # one eager pass builds every other variable of prediction
    model.load_weights(model_file_name).expect_partial()
    model.all_labels_embed = None
    model.prepared_for_prediction = False
    model._tf_predict_step = None
    model.run_inference(predict_data_example)  # prepares with the trained weights, traces
    logger.debug("Loaded %s for prediction without its training step.", cls.__name__)
    return model


def install() -> None:
    """Replace ``RasaModel.load`` (Rasa 3.6.21)."""
    RasaModel.load = classmethod(load)  # type: ignore[method-assign, assignment]
