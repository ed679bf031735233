# fig13_x8.gp: per-frame mIoU sorted best first (the paper's Fig. 13 / Fig. 2)
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) { set terminal pngcairo size 1000,560 font ',10' } else { set terminal png size 1000,560 }
set output 'fig13_x8.png'
set title 'Frame-wise mIoU at x8, sorted'
set xlabel 'frames (%, best first)'
set ylabel 'mIoU (%)'
set key bottom left
set grid
set arrow from 90,graph 0 to 90,graph 1 nohead dt 2
set arrow from 99,graph 0 to 99,graph 1 nohead dt 2
plot for [i=2:8] 'fig13_x8.dat' using 1:i with lines lw 2 title columnheader(i)
