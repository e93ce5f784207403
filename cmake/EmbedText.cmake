# Writes ${OUT}: a C++ file defining `const char *mm::${SYMBOL}` as the text of ${IN}.
file(READ ${IN} text)
file(WRITE ${OUT} "// Generated from ${IN}; do not edit.\nnamespace mm {\nextern const char *const ${SYMBOL};\nconst char *const ${SYMBOL} = R\"mmembed(${text})mmembed\";\n}\n")
