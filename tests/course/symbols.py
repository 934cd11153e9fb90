# ---
# title: Numbers and symbols
# date: 2024-06-02
# categories: [course]
# ---

# %% [markdown]
# # Numbers and symbols
#
# Back to the [welcome](01-welcome.ipynb#Welcome).

# %%
import sympy
x = sympy.symbols('x')
sympy.init_printing()
sympy.Integral(sympy.exp(-x**2), (x, -sympy.oo, sympy.oo))

# %%
sympy.Matrix([[1, x], [x**2, 1]])
