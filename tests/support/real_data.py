"""Tables as people have them, made here (seeded): the files the real-data tests upload as they are.

Each is a pandas DataFrame with the messiness of its kind — yes/no columns, a quoted address with a
comma and a line break, names with commas, missing ages, a string class column, stray spaces, a date
column with empty cells — and a writer to CSV text the way a spreadsheet or pandas would save it.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd


def housing(rows: int = 300, seed: int = 1) -> pd.DataFrame:
    """The target first; yes/no columns; a furnishing category; a quoted address (text)."""
    rng = np.random.default_rng(seed)
    area = rng.uniform(40, 250, rows).round(1)
    bedrooms = rng.integers(1, 6, rows)
    mainroad = rng.choice(["yes", "no"], rows, p=[0.8, 0.2])
    guestroom = rng.choice(["yes", "no"], rows, p=[0.3, 0.7])
    furnishing = rng.choice(["furnished", "semi-furnished", "unfurnished"], rows)
    price = (
        1200 * area
        + 15000 * bedrooms
        + 30000 * (mainroad == "yes")
        + 12000 * (guestroom == "yes")
        + np.select([furnishing == "furnished", furnishing == "semi-furnished"], [25000, 10000], 0)
        + rng.normal(0, 8000, rows)
    ).round(0)
    address = [f"{k + 1} Elm St, Apt {k % 7}" + ("\nSpringfield" if k % 50 == 0 else "") for k in range(rows)]
    return pd.DataFrame(
        {
            "price": price,
            "area": area,
            "bedrooms": bedrooms,
            "mainroad": mainroad,
            "guestroom": guestroom,
            "furnishing": furnishing,
            "address": address,
        }
    )


def titanic(rows: int = 400, seed: int = 2) -> pd.DataFrame:
    """Names with commas (quoted), missing ages, a string class column, the target second."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["male", "female"], rows, p=[0.64, 0.36])
    pclass = rng.choice(["1st", "2nd", "3rd"], rows, p=[0.25, 0.2, 0.55])
    age = rng.normal(30, 13, rows).clip(1, 80).round(0)
    fare = (rng.gamma(2.0, 15.0, rows) * np.select([pclass == "1st", pclass == "2nd"], [3.0, 1.5], 1.0)).round(2)
    embarked = rng.choice(["S", "C", "Q"], rows, p=[0.7, 0.2, 0.1]).astype(object)
    logit = 1.6 * (sex == "female") - 1.1 * (pclass == "3rd") + 0.8 * (pclass == "1st") - 0.02 * (age - 30) - 0.5
    survived = (rng.uniform(size=rows) < 1 / (1 + np.exp(-logit))).astype(int)
    age_with_gaps = np.where(rng.uniform(size=rows) < 0.2, np.nan, age)
    embarked[rng.uniform(size=rows) < 0.02] = None
    names = [f"Passenger{k}, {'Mrs.' if s == 'female' else 'Mr.'} Person {k}" for k, s in enumerate(sex)]
    return pd.DataFrame(
        {
            "PassengerId": np.arange(1, rows + 1),
            "Survived": survived,
            "Name": names,
            "Sex": sex,
            "Age": age_with_gaps,
            "Pclass": pclass,
            "Fare": fare,
            "Embarked": embarked,
        }
    )


def sales(rows: int = 120, seed: int = 3) -> pd.DataFrame:
    """A date column and a number column with empty cells."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2021-01-04", periods=rows, freq="D")
    temperature = rng.normal(15, 8, rows).round(1)
    sold = (200 + 4 * temperature + 30 * (dates.day_of_week >= 5) + rng.normal(0, 5, rows)).round(0)
    frame = pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "temperature": temperature, "sold": sold})
    frame.loc[rng.uniform(size=rows) < 0.1, "date"] = None
    frame.loc[rng.uniform(size=rows) < 0.1, "temperature"] = np.nan
    return frame


def csv_text(frame: pd.DataFrame, **options: object) -> str:
    return frame.to_csv(index=False, **options)


def european_csv() -> str:
    """A semicolon file with decimal commas and a category with stray spaces."""
    rng = np.random.default_rng(4)
    lines = ["größe;farbe;preis"]
    for k in range(60):
        size = round(float(rng.uniform(1, 10)), 2)
        colour = ["rot", " rot", "blau ", "blau", " grün "][k % 5]
        price = round(3 * size + {"rot": 1, "blau": 2, "grün": 4}[colour.strip()] + float(rng.normal(0, 0.1)), 2)
        lines.append(f"{str(size).replace('.', ',')};{colour};{str(price).replace('.', ',')}")
    return "\r\n".join(lines) + "\r\n"


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    out = io.BytesIO()
    frame.to_parquet(out, index=False)
    return out.getvalue()


def feather_bytes(frame: pd.DataFrame) -> bytes:
    out = io.BytesIO()
    frame.to_feather(out)
    return out.getvalue()


def big_mixed(rows: int = 150_000, seed: int = 6) -> pd.DataFrame:
    """A file past the size the CSV reader cuts into pieces (service/tables/csv_reader.py,
    PIECE_BYTES): numbers, a category with stray spaces, a date, missing cells everywhere."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "x": rng.normal(0, 3, rows).astype(np.float32),
            "n": rng.integers(-50, 50, rows).astype(float),
            "colour": rng.choice(["red", " red", "green ", "blue"], rows),
            "day": pd.date_range("2020-01-01", periods=rows, freq="h").strftime("%Y-%m-%d %H:%M"),
            "y": rng.normal(10, 2, rows).astype(np.float32),
        }
    )
    for name in ("x", "n", "colour", "day"):
        frame[name] = frame[name].mask(rng.uniform(size=rows) < 0.05)
    return frame


def serving_mixed(rows: int = 240, seed: int = 8) -> pd.DataFrame:
    """Every kind of column a model can read, each with missing cells: numbers, a category with more
    values than a job keeps, a yes/no category, a timestamp with times of day; a number target."""
    rng = np.random.default_rng(seed)
    area = rng.uniform(30, 200, rows).round(1)
    colour = rng.choice(["red", "green", "blue", "white", "black"], rows, p=[0.3, 0.25, 0.2, 0.15, 0.1]).astype(object)
    garden = rng.choice(["yes", "no"], rows).astype(object)
    stamps = pd.Timestamp("2020-03-01") + pd.to_timedelta(rng.integers(0, 900 * 24, rows), unit="h")
    price = 900 * area + 20000 * (garden == "yes") + 5000 * (colour == "red") + 40 * stamps.hour + rng.normal(0, 3000, rows)
    frame = pd.DataFrame(
        {
            "area": area,
            "colour": colour,
            "garden": garden,
            "listed": stamps.strftime("%Y-%m-%dT%H:%M:%S").astype(object),
            "price": price.round(0),
        }
    )
    for name in ("area", "colour", "garden", "listed"):
        frame.loc[rng.uniform(size=rows) < 0.1, name] = None
    return frame
