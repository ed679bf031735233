# fig9.gp: class-wise IoU normalised to HR at x6 (the paper's Fig. 9); classes worst HR IoU first, * = tail
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) { set terminal pngcairo size 1000,560 font ',10' } else { set terminal png size 1000,560 }
set output 'fig9.png'
set title 'Class-wise IoU / HR IoU at x6'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key outside right
set xtics rotate by -45
set ylabel 'IoU / IoU(HR)'
set yrange [0:*]
set grid ytics
plot for [i=2:7] 'fig9.dat' using i:xtic(1) title columnheader(i)
