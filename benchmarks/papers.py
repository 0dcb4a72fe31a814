"""The papers' own numbers, as printed in their tables (the five papers in ``papers/``).

Only the papers' results are typed in here; every sklt number in the report is measured in
the same run. Values are percentages.
"""

# 004 (Menon et al. 2021, logit adjustment), Table 2: test balanced error, ResNet-32 on
# CIFAR-10/100-LT (ρ = 100, 5 trials), ResNet-50 on ImageNet-LT and iNaturalist.
MENON_TABLE2 = {
    "columns": ["CIFAR-10-LT", "CIFAR-100-LT", "ImageNet-LT", "iNaturalist"],
    "rows": {
        "ERM": [27.16, 61.64, 53.11, 38.66],
        "Weight normalisation (τ = τ*)": [21.50, 58.76, 49.37, 34.45],
        "Class-balanced": [25.43, 60.40, None, 35.84],
        "Adaptive (LDAM)": [26.65, 60.40, 52.15, 33.31],
        "Adaptive + DRW (LDAM + DRW)": [22.97, 57.96, None, 32.00],
        "Equalised": [26.02, 57.26, 54.02, 38.37],
        "Logit adjustment post-hoc (τ = 1)": [22.60, 58.24, 49.66, 33.98],
        "Logit adjustment post-hoc (τ = τ*)": [19.08, 57.90, 49.56, 33.80],
        "Logit adjustment loss (τ = 1)": [22.33, 56.11, 48.89, 33.64],
    },
}

# 004 §6.1 / Fig. 2: two Gaussians, P(y=+1) = 5%; Bayes balanced error Φ(-√2).
MENON_GAUSSIANS = {"bayes": 7.86, "trials": 100, "n_train": 10_000}

# 002 (Hong et al. 2021, LADE), Table 6: top-1 accuracy on test-time shifted ImageNet-LT,
# ResNeXt-50, 180 epochs. Columns: forward 50, 25, 10, 5, 2, uniform, backward 2, 5, 10, 25, 50.
HONG_TABLE6 = {
    "columns": [("forward", 50), ("forward", 25), ("forward", 10), ("forward", 5),
                ("forward", 2), ("uniform", 1), ("backward", 2), ("backward", 5),
                ("backward", 10), ("backward", 25), ("backward", 50)],
    "rows": {
        "Softmax": [66.3, 63.9, 60.4, 57.1, 52.3, 48.2, 44.2, 38.9, 35.0, 30.5, 27.9],
        "Balanced Softmax": [62.5, 60.9, 58.8, 57.0, 54.4, 52.1, 49.6, 46.5, 44.1, 41.4, 39.7],
        "PC Balanced Softmax": [65.5, 63.1, 59.9, 57.3, 54.3, 52.1, 50.2, 48.8, 48.3, 48.5, 49.0],
        "PC Softmax": [66.6, 63.9, 60.6, 58.1, 55.0, 52.8, 51.0, 49.3, 48.8, 48.5, 49.0],
        "LADE": [67.4, 64.8, 61.3, 58.6, 55.2, 53.0, 51.2, 49.8, 49.2, 49.3, 50.0],
    },
}

# 001 (estimated offset), Table 3: ablation, ImageNet-LT and Places2-LT top-1 accuracy.
OFFSET_TABLE3 = {
    "columns": ["IN-LT many", "IN-LT medium", "IN-LT few", "IN-LT all",
                "Places many", "Places medium", "Places few", "Places all"],
    "rows": {
        "Baseline": [47.4, 7.9, 0.1, 21.9, 45.2, 23.8, 8.1, 28.2],
        "UC only": [56.5, 28.3, 9.1, 36.5, 43.2, 28.5, 24.2, 32.9],
        "Estimated offset w/o UC": [56.6, 30.8, 9.4, 37.7, 45.9, 35.2, 21.1, 36.0],
        "Estimated offset + UC": [49.9, 40.6, 31.4, 42.9, 38.0, 39.9, 40.7, 39.4],
    },
}

# 003 (UniMix + Bayias), Table 4: top-1 accuracy, ResNet-32 on CIFAR-LT, no mixing rows
# and UniMix rows.
UNIMIX_TABLE4 = {
    "columns": ["C10-LT ρ=100", "C10-LT ρ=200", "C100-LT ρ=100", "C100-LT ρ=200"],
    "rows": {
        "CE": [70.36, 66.21, 38.32, 34.56],
        "LDAM": [74.47, 69.50, 41.76, 37.73],
        "Bayias": [78.70, 74.21, 43.52, 38.83],
        "UniMix + CE": [76.47, 68.42, 41.46, 37.63],
        "UniMix + Bayias": [82.75, 78.48, 45.45, 42.07],
    },
}
