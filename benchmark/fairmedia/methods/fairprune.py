"""FairPrune (Wu et al. 2022): prune the trained base network's weights that matter most to the
better-served group and least to the worse-served one.

Saliency of weight θ for a group (Optimal Brain Damage): ½ θ² H_θθ, with the Hessian's diagonal
approximated by the mean squared gradient of the group's BCE on the validation images (empirical
Fisher). Pruning score: S_privileged − β S_unprivileged; the top ``prune_fraction`` of the
weights of convolution and linear layers (tensors with ≥ 2 dimensions), ranked globally, are set
to zero. The unprivileged group is the one with the lowest validation AUC of the base scores.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score
from torch.func import functional_call, grad, vmap
from torch.utils.data import DataLoader

from fairmedia import layout
from fairmedia.data.torch_dataset import PreparedImageDataset
from fairmedia.errors import UserError
from fairmedia.methods.base import HParam
from fairmedia.methods.post_base import PostProcessor, need_both_labels
from fairmedia.methods.registry import register
from fairmedia.models.registry import build_model


@register
class FairPrune(PostProcessor):
    name = "fairprune"
    family = "pruning"
    decides = False
    needs_network = True
    citation = ("Wu et al., FairPrune: Achieving Fairness Through Pruning for Dermatological "
                "Disease Diagnosis, MICCAI 2022")
    description = ("zero the weights with the largest S_priv − β·S_unpriv (OBD saliency, Fisher "
                   "diagonal on val) in the base checkpoint, then re-score")
    hparams = {
        "prune_fraction": HParam(0.05, low=0.005, high=0.2, log=True,
                                 help="share of conv/linear weights set to zero"),
        "beta": HParam(1.0, low=0.2, high=5.0, log=True, help="weight of the unprivileged saliency"),
    }

    def _load_network(self) -> torch.nn.Module:
        ctx = self.context
        path = layout.weights_file(ctx.base_run, ctx.epoch)
        if not path.exists():
            raise UserError(f"fairprune needs the base run's weights {path} (the epoch this "
                            "selection uses); was the base run finished?")
        images = ctx.prepared.images
        net = build_model(ctx.arch, images.shape[1], spatial_dims=images.ndim - 2)
        try:
            net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        except RuntimeError as err:
            raise UserError(f"{path} does not hold a plain {ctx.arch} network (fairprune needs a "
                            f"base run of erm, sam, swa or swad): {str(err)[:200]}") from None
        return net.to(ctx.device).eval()

    def _loader(self, df: pd.DataFrame, batch_size: int = 128) -> DataLoader:
        groups = np.zeros(len(self.context.prepared.metadata), dtype=np.int64)
        rows = self.context.rows(df["sample_id"])
        return DataLoader(PreparedImageDataset(self.context.prepared, rows, groups),
                          batch_size=batch_size, shuffle=False)

    def prunable(self) -> list[torch.nn.Parameter]:
        return [p for p in self.network.parameters() if p.ndim >= 2]

    def _saliency(self, df: pd.DataFrame) -> list[torch.Tensor]:
        names = [n for n, p in self.network.named_parameters() if p.ndim >= 2]
        params = {n: p.detach() for n, p in self.network.named_parameters()}
        buffers = dict(self.network.named_buffers())

        def image_loss(prm, x, y):
            logit = functional_call(self.network, (prm, buffers), (x[None],))
            return F.binary_cross_entropy_with_logits(logit, y[None])

        # Per-image gradients (vmap): the Fisher diagonal is a mean of squared per-sample gradients.
        per_image = vmap(grad(image_loss), in_dims=(None, 0, 0))
        fisher = {n: torch.zeros_like(params[n]) for n in names}
        n_images = 0
        for x, y, _, _ in self._loader(df, batch_size=16):
            grads = per_image(params, x.to(self.context.device), y.to(self.context.device))
            for n in names:
                fisher[n] += (grads[n] ** 2).sum(0)
            n_images += len(x)
        return [0.5 * params[n] ** 2 * fisher[n] / max(n_images, 1) for n in names]

    def fit(self, val: pd.DataFrame) -> dict:
        need_both_labels(val, self.name, self.context.group_names)
        self.network = self._load_network()
        aucs = {int(g): roc_auc_score(b["y"], b["score"]) for g, b in val.groupby("group")}
        worst = min(aucs, key=aucs.get)
        unpriv = self._saliency(val[val["group"] == worst])
        priv = self._saliency(val[val["group"] != worst])
        score = torch.cat([(p - self.hp["beta"] * u).flatten() for p, u in zip(priv, unpriv)])
        n_prune = int(round(self.hp["prune_fraction"] * score.numel()))
        mask = torch.ones_like(score, dtype=torch.bool)
        if n_prune:
            mask[torch.topk(score, n_prune).indices] = False
        with torch.no_grad():
            start = 0
            for p in self.prunable():
                p.mul_(mask[start: start + p.numel()].view_as(p))
                start += p.numel()
        names = self.context.group_names
        return {"unprivileged": names[worst], "val_auc": {names[g]: a for g, a in aucs.items()},
                "n_prunable": int(score.numel()), "n_pruned": n_prune}

    @torch.no_grad()
    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        scores = [torch.sigmoid(self.network(x.to(self.context.device))).cpu()
                  for x, _, _, _ in self._loader(df)]
        return pd.DataFrame({"score": torch.cat(scores).numpy().astype(float)}, index=df.index)
