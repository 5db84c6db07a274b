"""The explicit architecture registry: name -> network class. Never looked up by eval or getattr."""

from __future__ import annotations

from .burgess import BurgessAutoencoder, ConvConfig
from .common import Network, validate_config
from .dcgan import DCGANConfig, DCGANDiscriminator, DCGANGenerator, InfoGANCritic, QNetwork, infogan_head
from .mlp import MLPAutoencoder, MLPConfig

ARCHITECTURES: dict[str, type[Network]] = {
    "mlp": MLPAutoencoder,
    "conv": BurgessAutoencoder,
    "dcgan": DCGANGenerator,
}

__all__ = [
    "ARCHITECTURES",
    "BurgessAutoencoder",
    "ConvConfig",
    "DCGANConfig",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "InfoGANCritic",
    "MLPAutoencoder",
    "MLPConfig",
    "Network",
    "QNetwork",
    "infogan_head",
    "validate_config",
]
