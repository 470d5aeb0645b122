"""Segmentation fairness metrics (issue #17): per-case MONAI metrics, per-group summaries with
patient-clustered bootstrap CIs, equity-scaled scores (FairSeg and FairMedFM variants),
lesion-size-stratified Dice, per-region error maps, and a folder-of-masks evaluation.
docs/segmentation.md defines every number."""
