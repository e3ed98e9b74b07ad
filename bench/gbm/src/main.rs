//! Measures forust-ml's gradient-boosted trees against the holdout AUCs Bullseye's logistic
//! and forest models reach on the same rows (a flat CSV with a `test` column). Not part of
//! Bullseye: a one-off measurement for issue 25 ("measure, do not assume").
use forust_ml::data::Matrix;
use forust_ml::GradientBooster;
use std::collections::BTreeMap;
use std::time::Instant;

fn auc(y: &[f64], s: &[f64]) -> f64 {
    let mut idx: Vec<usize> = (0..y.len()).collect();
    idx.sort_by(|&a, &b| s[a].total_cmp(&s[b]));
    let (mut rank_sum, mut i) = (0.0, 0);
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && s[idx[j + 1]] == s[idx[i]] {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        for k in i..=j {
            if y[idx[k]] == 1.0 {
                rank_sum += r;
            }
        }
        i = j + 1;
    }
    let p = y.iter().filter(|v| **v == 1.0).count() as f64;
    let n = y.len() as f64 - p;
    (rank_sum - p * (p + 1.0) / 2.0) / (p * n)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (path, label, numeric, categorical) = (&args[1], &args[2], &args[3], args.get(4));
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap_or_else(|| panic!("{n}"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let mut columns: Vec<Vec<f64>> = Vec::new();
    for name in numeric.split(',') {
        let c = col(name);
        columns.push(rows.iter().map(|r| r[c].parse::<f64>().unwrap_or(f64::NAN)).collect());
    }
    if let Some(cats) = categorical {
        for name in cats.split(',').filter(|s| !s.is_empty()) {
            let c = col(name);
            let mut levels = BTreeMap::new();
            for r in &rows {
                let n = levels.len();
                levels.entry(r[c]).or_insert(n);
            }
            for (level, _) in &levels {
                columns.push(rows.iter().map(|r| f64::from(u8::from(r[c] == *level))).collect());
            }
        }
    }
    let y: Vec<f64> = rows.iter().map(|r| r[col(label)].parse().unwrap()).collect();
    let test: Vec<bool> = rows.iter().map(|r| r[col("test")] == "1").collect();
    let pick = |keep: &dyn Fn(usize) -> bool| -> (Vec<f64>, Vec<f64>, usize) {
        let ids: Vec<usize> = (0..rows.len()).filter(|&i| keep(i)).collect();
        let mut data = Vec::with_capacity(ids.len() * columns.len());
        for c in &columns {
            data.extend(ids.iter().map(|&i| c[i]));
        }
        (data, ids.iter().map(|&i| y[i]).collect(), ids.len())
    };
    let train_ids: Vec<usize> = (0..rows.len()).filter(|&i| !test[i]).collect();
    let inner_valid: std::collections::HashSet<usize> =
        train_ids.iter().copied().enumerate().filter(|(k, _)| k % 5 == 0).map(|(_, i)| i).collect();
    let configs = [(100usize, 0.1f32, 3usize), (300, 0.05, 3), (200, 0.1, 5), (500, 0.03, 4)];
    let fit = |cfg: (usize, f32, usize), train: &(Vec<f64>, Vec<f64>, usize)| {
        let m = Matrix::new(&train.0, train.2, columns.len());
        let mut b = GradientBooster::default()
            .set_iterations(cfg.0)
            .set_learning_rate(cfg.1)
            .set_max_depth(cfg.2)
            .set_seed(7);
        b.fit_unweighted(&m, &train.1, None).unwrap();
        b
    };
    let inner_train = pick(&|i| !test[i] && !inner_valid.contains(&i));
    let inner_val = pick(&|i| inner_valid.contains(&i));
    let mut best = (0.0, configs[0]);
    for cfg in configs {
        let b = fit(cfg, &inner_train);
        let s = b.predict(&Matrix::new(&inner_val.0, inner_val.2, columns.len()), true);
        let a = auc(&inner_val.1, &s);
        println!("inner validation: iterations {} lr {} depth {}: AUC {a:.4}", cfg.0, cfg.1, cfg.2);
        if a > best.0 {
            best = (a, cfg);
        }
    }
    let train = pick(&|i| !test[i]);
    let hold = pick(&|i| test[i]);
    let t = Instant::now();
    let b = fit(best.1, &train);
    let secs = t.elapsed().as_secs_f64();
    let s = b.predict(&Matrix::new(&hold.0, hold.2, columns.len()), true);
    println!(
        "chosen iterations {} lr {} depth {}; {} inputs, {} training rows, {} holdout rows; fit {secs:.2} s; holdout AUC {:.4}",
        best.1 .0, best.1 .1, best.1 .2, columns.len(), train.2, hold.2, auc(&hold.1, &s)
    );
}
