# Prints the candidates zsh offers for a command line: zsh -f zsh-capture.zsh SCRIPT LINE
# Runs an interactive zsh in a pseudo-terminal, loads SCRIPT after compinit, wraps compadd to
# print what each completion function adds, types LINE and a TAB, and reads until a marker.
zmodload zsh/zpty || exit 3
script=$1 line=$2
zpty z zsh -f -i
zpty -w z "PS1='' PROMPT='' RPROMPT=''"
zpty -w z 'autoload -U compinit && compinit -u -D'
zpty -w z "source ${(q)script}"
zpty -w z 'compadd() { local -a __hits; builtin compadd -O __hits "$@"; (( $#__hits )) && print -r -- "<HI""TS>${(j: :)__hits}</HI""TS>"; builtin compadd "$@" }'
typeset out='' chunk
integer deadline=$(( SECONDS + 30 ))
# zsh drops what is typed ahead of its prompt: wait until setup has finished.
zpty -w z "print '<REA''DY>'"
while (( SECONDS < deadline )) && [[ $out != *'<READY>'* ]]; do
  zpty -r -t z chunk && out+=$chunk || sleep 0.05
done
out=''
zpty -n -w z "${line}"$'\t'
# Ctrl-U clears the line; the marker is split in the typed text so only its output matches.
zpty -n -w z $'\x15'"print '<DO''NE>'"$'\n'
while (( SECONDS < deadline )) && [[ $out != *'<DONE>'* ]]; do
  zpty -r -t z chunk && out+=$chunk || sleep 0.05
done
zpty -d z
[[ $out == *'<DONE>'* ]] || { print -u2 'zsh did not answer'; exit 4 }
typeset -aU hits
for m in ${(f)out}; do
  while [[ $m == *'<HITS>'*'</HITS>'* ]]; do
    chunk=${m#*<HITS>}
    hits+=(${=chunk%%</HITS>*})
    m=${m#*</HITS>}
  done
done
print -l -- $hits
