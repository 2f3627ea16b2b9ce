#!/bin/sh
# Greets $1 in English and Korean, and says where it runs: a process on the host's kernel.
echo "${GREETING:-Hello}, $1! / 안녕하세요, $1!"
echo "hostname $(hostname), user $(id -un), kernel $(uname -r) (the host's: containers share it)"
